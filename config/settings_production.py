"""Production settings: the development settings, with their unsafe defaults refused."""

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_str
from config.settings import *  # noqa: F403
from config.settings import DEV_SECRET_KEY

SECRET_KEY = env_str("SECRET_KEY", required=True)
if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 50 characters")
if env_bool("DEBUG", False):
    raise ImproperlyConfigured("DEBUG must not be on in production")
DEBUG = False
env_str("AUDIT_SIGNING_KEY", required=True)
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
CSRF_COOKIE_SECURE = True
