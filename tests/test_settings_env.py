from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90s", timedelta(seconds=90)), ("15m", timedelta(minutes=15)), ("72h", timedelta(hours=72)), ("7d", timedelta(days=7))],
)
def test_it_parses_durations_written_like_the_design(text, expected):
    assert env.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "7w", "-5m", "0s", "1.5h", "h"])
def test_it_refuses_a_malformed_duration(text):
    with pytest.raises(ValueError):
        env.parse_duration(text)


def test_a_bad_duration_in_the_environment_fails_loudly_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DEADLINE_VOTE", "seven days")
    with pytest.raises(ImproperlyConfigured, match="DEADLINE_VOTE"):
        env.env_duration("DEADLINE_VOTE", "7d")


def test_a_bad_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env.env_bool("DEBUG", False)


def test_sizes_accept_units(monkeypatch):
    monkeypatch.setenv("EVIDENCE_MAX_BYTES", "25MB")
    assert env.env_size("EVIDENCE_MAX_BYTES", "1MB") == 25 * 1024 * 1024
    monkeypatch.setenv("EVIDENCE_MAX_BYTES", "lots")
    with pytest.raises(ImproperlyConfigured):
        env.env_size("EVIDENCE_MAX_BYTES", "1MB")


def test_production_settings_refuse_a_missing_secret_key_and_debug():
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    base["DJANGO_SETTINGS_MODULE"] = "config.settings_production"
    base["AUDIT_SIGNING_KEY"] = "00" * 32
    base["BALLOT_SEALING_KEY"] = "A" * 43 + "="  # a valid Fernet key (32 zero-ish bytes, urlsafe base64)
    code = "import django; django.setup()"
    missing = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True)
    assert missing.returncode != 0 and "SECRET_KEY" in missing.stderr
    debug = subprocess.run([sys.executable, "-c", code], env={**base, "SECRET_KEY": "x" * 60, "DEBUG": "true"},
                           capture_output=True, text=True)
    assert debug.returncode != 0 and "DEBUG" in debug.stderr
    ok = subprocess.run([sys.executable, "-c", code], env={**base, "SECRET_KEY": "x" * 60}, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_production_settings_refuse_a_missing_or_malformed_ballot_sealing_key():
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "BALLOT_SEALING_KEY")}
    base.update(DJANGO_SETTINGS_MODULE="config.settings_production", AUDIT_SIGNING_KEY="00" * 32,
                SECRET_KEY="Zq8-v" * 12)
    code = "import django; django.setup()"
    missing = subprocess.run([sys.executable, "-c", code], env=base, capture_output=True, text=True)
    assert missing.returncode != 0 and "BALLOT_SEALING_KEY" in missing.stderr
    bad = subprocess.run([sys.executable, "-c", code], env={**base, "BALLOT_SEALING_KEY": "not-a-key"},
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "Fernet key" in bad.stderr


@pytest.mark.parametrize("text", ["20", "20/week", "0/min", "/min", "many/min"])
def test_a_malformed_sign_in_rate_fails_loudly_naming_the_variable(monkeypatch, text):
    monkeypatch.setenv("SIGNIN_RATE", text)
    with pytest.raises(ImproperlyConfigured, match="SIGNIN_RATE"):
        env.env_rate("SIGNIN_RATE", "20/min")


def test_a_sign_in_rate_is_read_like_drf_writes_it(monkeypatch):
    monkeypatch.setenv("SIGNIN_RATE", " 5 / min ")
    assert env.env_rate("SIGNIN_RATE", "20/min") == "5/min"
