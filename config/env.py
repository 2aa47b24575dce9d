"""Strict parsing of settings from the environment.

A bad value must stop the process at start-up with a message that names the
variable, never fall back silently to a default: a typo in DEADLINE_VOTE should
not quietly give members seven days instead of seven hours.
"""

import os
import re
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)\s*$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = _raw(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def parse_duration(text: str) -> timedelta:
    """Parse '90s', '15m', '72h' or '7d'; raise ValueError on anything else."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration like 90s, 15m, 72h or 7d")
    amount, unit = match.groups()
    duration = timedelta(**{_DURATION_UNITS[unit]: int(amount)})
    if duration <= timedelta(0):
        raise ValueError(f"{text!r} must be longer than zero")
    return duration


def env_duration(name: str, default: str) -> timedelta:
    value = _raw(name) or default
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None


def env_size(name: str, default: str) -> int:
    """Parse a byte size such as '25MB', '512KB' or '1048576'."""
    value = _raw(name) or default
    match = _SIZE.match(value)
    if not match:
        raise ImproperlyConfigured(f"{name}={value!r} is not a size like 25MB")
    amount, unit = match.groups()
    return int(amount) * _SIZE_UNITS[(unit or "B").upper()]


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def env_rate(name: str, default: str) -> str:
    """A request rate like '20/min' (DRF's throttle format), at least 1."""
    value = _raw(name) or default
    match = _RATE.match(value)
    if not match or int(match.group(1)) < 1:
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 20/min, 5/s, 100/hour or 1000/day")
    return f"{int(match.group(1))}/{match.group(2)}"


SECRET_MIN_LENGTH = 50
SECRET_MIN_DISTINCT = 10


def env_secret(name: str, *, refused: tuple[str, ...] = ()) -> str:
    """A required secret that looks random: at least SECRET_MIN_LENGTH
    characters and SECRET_MIN_DISTINCT different ones (a 64-digit hex key
    passes; 50 times "a" or a repeated word does not), never a known value."""
    value = env_str(name, required=True)
    if value in refused or value.startswith("django-insecure-"):
        raise ImproperlyConfigured(f"{name} is a known development value: generate a random one")
    if len(value) < SECRET_MIN_LENGTH or len(set(value)) < SECRET_MIN_DISTINCT:
        raise ImproperlyConfigured(
            f"{name} is too weak: use a random value of at least {SECRET_MIN_LENGTH} characters with at least "
            f"{SECRET_MIN_DISTINCT} different ones (python -c 'import secrets; print(secrets.token_urlsafe(50))')")
    return value


def database_config(name: str, url: str, *, parallel_workers: int | None = None, **options) -> dict:
    """dj_database_url's parse, with a malformed URL stopping start-up under its variable's name.

    parallel_workers: on PostgreSQL, each connection's
    max_parallel_workers_per_gather (None: the server's own setting)."""
    import dj_database_url

    try:
        config = dj_database_url.parse(url, **options)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None
    if parallel_workers is not None and config["ENGINE"] == "django.db.backends.postgresql":
        # libpq's `options`: set when the connection opens, no query per request.
        config.setdefault("OPTIONS", {})["options"] = f"-c max_parallel_workers_per_gather={int(parallel_workers)}"
    return config


def env_url(name: str, *, schemes: tuple[str, ...]) -> str:
    """A required URL whose scheme is one of `schemes` (no silent default)."""
    value = env_str(name, required=True)
    scheme = value.split("://", 1)[0].lower() if "://" in value else ""
    if scheme not in schemes:
        raise ImproperlyConfigured(f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return value
