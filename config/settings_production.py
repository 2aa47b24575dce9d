"""Production settings: the development settings, with their unsafe defaults refused."""

from django.core.exceptions import ImproperlyConfigured

from config.env import database_config, env_bool, env_int, env_secret, env_str, env_url
from config.settings import *  # noqa: F403
from config.settings import DATABASES, DEV_SECRET_KEY

# Refused at start-up rather than run weak: a short or low-variety key, and the
# development fallbacks (a SQLite file, Redis database 0 on localhost).
SECRET_KEY = env_secret("SECRET_KEY", refused=(DEV_SECRET_KEY,))
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "pgsql"))
DATABASES["default"] = database_config(
    "DATABASE_URL", DATABASE_URL,
    conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
    conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", False),
    parallel_workers=env_int("DB_PARALLEL_WORKERS", 0, minimum=0),
)
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
CELERY_BROKER_URL = REDIS_URL
if env_bool("DEBUG", False):
    raise ImproperlyConfigured("DEBUG must not be on in production")
DEBUG = False
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY", required=True)
BALLOT_SEALING_KEY = env_str("BALLOT_SEALING_KEY", required=True)
try:
    from cryptography.fernet import Fernet

    Fernet(BALLOT_SEALING_KEY)
except ValueError:
    raise ImproperlyConfigured("BALLOT_SEALING_KEY must be a Fernet key: urlsafe base64 of 32 random bytes") from None

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
# The schema and the API docs need a signed-in person unless said otherwise.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", False)
CSRF_COOKIE_SECURE = True
# The chair, members, auditors and staff sign in with a second factor.
REQUIRE_2FA = env_bool("REQUIRE_2FA", True)
