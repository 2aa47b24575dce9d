import os
import subprocess
import sys
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


def test_import_limits_are_read_and_a_bad_one_fails_loudly(monkeypatch):
    monkeypatch.setenv("REPORT_IMPORT_MAX_ROWS", "500")
    assert env.env_int("REPORT_IMPORT_MAX_ROWS", 10000, minimum=1) == 500
    monkeypatch.setenv("REPORT_IMPORT_MAX_ROWS", "0")
    with pytest.raises(ImproperlyConfigured, match="REPORT_IMPORT_MAX_ROWS"):
        env.env_int("REPORT_IMPORT_MAX_ROWS", 10000, minimum=1)
    monkeypatch.setenv("REPORT_IMPORT_MAX_BYTES", "8MB")
    assert env.env_size("REPORT_IMPORT_MAX_BYTES", "32MB") == 8 * 1024 * 1024


STRONG_KEY = "kP3v9-Qz7_Lx2mWn8RtYb4Hc6JdFs1GaEo0UiKl5NpVqXwZyTm"  # 50 characters, 49 different


def start_production(**env_vars) -> subprocess.CompletedProcess:
    """django.setup() with config.settings_production in a fresh process, from
    a complete production environment changed by env_vars (None: unset)."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "API_DOCS_PUBLIC", "REQUIRE_2FA")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings_production", AUDIT_SIGNING_KEY="00" * 32,
               BALLOT_SEALING_KEY="A" * 43 + "=",  # a well-formed Fernet key
               SECRET_KEY=STRONG_KEY, DATABASE_URL="postgres://app@db.example.org:5432/commission",
               REDIS_URL="redis://cache.example.org:6379/3")
    for name, value in env_vars.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['HOST'], "
            "settings.CELERY_BROKER_URL, settings.API_DOCS_PUBLIC, settings.REQUIRE_2FA)")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_production_settings_refuse_a_missing_secret_key_and_debug():
    missing = start_production(SECRET_KEY=None)
    assert missing.returncode != 0 and "SECRET_KEY" in missing.stderr
    debug = start_production(DEBUG="true")
    assert debug.returncode != 0 and "DEBUG" in debug.stderr
    ok = start_production()
    assert ok.returncode == 0, ok.stderr


def test_production_settings_refuse_a_missing_or_malformed_ballot_sealing_key():
    missing = start_production(BALLOT_SEALING_KEY=None)
    assert missing.returncode != 0 and "BALLOT_SEALING_KEY" in missing.stderr
    bad = start_production(BALLOT_SEALING_KEY="not-a-key")
    assert bad.returncode != 0 and "Fernet key" in bad.stderr


@pytest.mark.parametrize("text", ["20", "20/week", "0/min", "/min", "many/min"])
def test_a_malformed_sign_in_rate_fails_loudly_naming_the_variable(monkeypatch, text):
    monkeypatch.setenv("SIGNIN_RATE", text)
    with pytest.raises(ImproperlyConfigured, match="SIGNIN_RATE"):
        env.env_rate("SIGNIN_RATE", "20/min")


def test_a_sign_in_rate_is_read_like_drf_writes_it(monkeypatch):
    monkeypatch.setenv("SIGNIN_RATE", " 5 / min ")
    assert env.env_rate("SIGNIN_RATE", "20/min") == "5/min"


@pytest.mark.parametrize("key", [
    "a" * 50,  # long enough, one character
    "abcd" * 20,  # long, four different characters
    STRONG_KEY[:49],  # varied but one short of 50
    "django-insecure-" + STRONG_KEY,  # Django's own marker of a generated development key
    "dev-only-insecure-key-never-use-in-production",  # the development default
])
def test_production_refuses_a_weak_secret_key_at_start_up(key):
    started = start_production(SECRET_KEY=key)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr and "SECRET_KEY" in started.stderr


def test_production_accepts_a_hex_or_url_safe_random_key():
    import secrets

    for key in (secrets.token_hex(32), secrets.token_urlsafe(50)):
        started = start_production(SECRET_KEY=key)
        assert started.returncode == 0, started.stderr


@pytest.mark.parametrize(("name", "value"), [
    ("DATABASE_URL", None), ("DATABASE_URL", "sqlite:///db.sqlite3"), ("DATABASE_URL", "db.example.org"),
    ("REDIS_URL", None), ("REDIS_URL", "cache.example.org:6379"),
])
def test_production_refuses_a_missing_or_non_production_database_or_redis(name, value):
    started = start_production(**{name: value})
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr and name in started.stderr


def test_production_uses_the_given_database_and_redis_and_keeps_the_api_docs_private():
    started = start_production()
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["django.db.backends.postgresql", "db.example.org",
                                      "redis://cache.example.org:6379/3", "False", "True"]
    assert start_production(API_DOCS_PUBLIC="true").stdout.split()[-2] == "True"


def test_two_factor_sign_in_is_on_in_production_and_off_in_development(settings):
    assert settings.REQUIRE_2FA is False
    assert start_production().stdout.split()[-1] == "True"
    assert start_production(REQUIRE_2FA="false").stdout.split()[-1] == "False"


def test_a_malformed_require_2fa_fails_loudly_naming_the_variable():
    started = start_production(REQUIRE_2FA="maybe")
    assert started.returncode != 0 and "REQUIRE_2FA" in started.stderr


def start_development(**env_vars) -> subprocess.CompletedProcess:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="config.settings", **env_vars)
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.BULLETIN_GRID_KM, settings.BULLETIN_DELAY.total_seconds(), "
            "settings.BULLETIN_PERIOD.total_seconds(), settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['bulletin'], "
            "settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['comment'])")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


@pytest.mark.parametrize(("name", "value"), [("BULLETIN_GRID_KM", "ten"), ("BULLETIN_GRID_KM", "0.5"),
                                             ("BULLETIN_DELAY", "2 days"), ("BULLETIN_PERIOD", "daily"),
                                             ("BULLETIN_RATE", "lots"), ("COMMENT_RATE", "often")])
def test_a_bad_bulletin_setting_stops_the_start_naming_the_variable(name, value):
    started = start_development(**{name: value})
    assert started.returncode != 0 and name in started.stderr


def test_the_bulletin_settings_are_read_from_the_environment():
    started = start_development(BULLETIN_GRID_KM="5", BULLETIN_DELAY="72h", BULLETIN_PERIOD="7d", BULLETIN_RATE="10/min",
                                COMMENT_RATE="5/min")
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["5.0", "259200.0", "604800.0", "10/min", "5/min"]

@pytest.mark.parametrize("text", ["0", "-5", "forty million", "4e7"])
def test_a_bad_image_pixel_limit_fails_loudly_naming_the_variable(monkeypatch, text):
    monkeypatch.setenv("EVIDENCE_IMAGE_MAX_PIXELS", text)
    with pytest.raises(ImproperlyConfigured, match="EVIDENCE_IMAGE_MAX_PIXELS"):
        env.env_int("EVIDENCE_IMAGE_MAX_PIXELS", 40_000_000, minimum=1)

def test_the_reply_window_defaults_to_72h_and_a_bad_one_fails_at_start_up(settings):
    assert timedelta(hours=72) == settings.DEADLINE_REPLY
    started = start_production(DEADLINE_REPLY="three days")
    assert started.returncode != 0 and "DEADLINE_REPLY" in started.stderr
    assert start_production(DEADLINE_REPLY="48h").returncode == 0


def test_a_malformed_digest_interval_stops_the_start_up_naming_the_variable():
    started = start_production(NOTIFICATION_DIGEST_INTERVAL="daily")
    assert started.returncode != 0 and "NOTIFICATION_DIGEST_INTERVAL" in started.stderr
    assert start_production(NOTIFICATION_DIGEST_INTERVAL="12h").returncode == 0


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_apps_connections_run_without_parallel_workers_unless_asked():
    # DB_PARALLEL_WORKERS (default 0) reaches PostgreSQL when the connection
    # opens: the server's own default is 2.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"


def test_db_parallel_workers_is_read_and_a_bad_value_fails_loudly():
    from config.env import database_config

    assert database_config("DATABASE_URL", "postgres://db.example.org/x", parallel_workers=3)["OPTIONS"] == {
        "options": "-c max_parallel_workers_per_gather=3"}
    assert "options" not in database_config("DATABASE_URL", "sqlite:///x.sqlite3", parallel_workers=0).get(
        "OPTIONS", {})
    started = start_production(DB_PARALLEL_WORKERS="-1")
    assert started.returncode != 0 and "DB_PARALLEL_WORKERS" in started.stderr
