"""Settings, all read from the environment (see the README's table).

Development defaults let `make run` work on a fresh machine: a SQLite file and
a Redis server started by scripts/with_redis.py. Production uses
config.settings_production, which refuses the development defaults.
"""

from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF

from config.env import (
    database_config,
    env_bool,
    env_duration,
    env_float,
    env_int,
    env_rate,
    env_size,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105 (refused by settings_production)
SECRET_KEY = env_str("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in (env_str("CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Sign-in lockout after repeated failures (the API's token endpoint, the
    # sign-in page and the admin's login all go through authenticate()).
    "axes",
    "rest_framework",
    # Hashed, expiring API tokens (the model is accounts.AuthToken, below).
    # DRF's rest_framework.authtoken is not installed: it stored keys in clear
    # and its admin listed them.
    "knox",
    # Two-factor sign-in (TOTP and recovery codes) where REQUIRE_2FA is on.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "audit",
    "accounts",
    "notifications",
    "reports",
    "commission",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed a second factor.
    "django_otp.middleware.OTPMiddleware",
    # Where REQUIRE_2FA is on, a person who must pass a second factor and has
    # not reaches no page (the admin's included) until they have.
    "web.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out sign-in into config.views.signin_locked_out's 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": database_config(
        "DATABASE_URL", DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        # On: a "SELECT 1" before the first query of each request, so that a
        # connection the database dropped (restart, failover) is replaced
        # instead of failing that request. Off by default: it cost 14 % of
        # intake throughput (BENCHMARKS.md, "Intake"), and without it Django
        # still discards a connection once a request has hit an error on it.
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", False),
        # 0: no parallel workers for the app's queries. They read a page at a
        # time, and under load a worker bought one query's latency with the CPU
        # the other requests needed (BENCHMARKS.md, "Four cheaper reads").
        parallel_workers=env_int("DB_PARALLEL_WORKERS", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; the busy timeout
    # makes a writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests on SQLite (`make test` on a fresh machine) use a file, not the
    # shared in-memory database: there two requests of the browser tests at
    # once (an outbox sending two reports) failed with "database table is
    # locked" at once, where a file waits for the lock (the timeout above).
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout check first (it refuses a locked-out sign-in before the
# password is even checked), then Django's own.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.SignInLockout",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("uk", "Українська")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))

# --- Redis and Celery -------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only after it ran, and a task whose worker died is
# handed back: together with idempotent tasks this gives "done once in effect".
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# When the worker loses Redis, tasks still running are cancelled rather than
# left to be acknowledged on a dead connection (Celery 6's default). Safe
# because every task here is idempotent and the sweep comes round again.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Unacknowledged tasks come back after this long. No task here runs
    # longer than a sweep, and no ETA task is ever scheduled far ahead.
    "visibility_timeout": int(env_duration("CELERY_VISIBILITY_TIMEOUT", "5m").total_seconds()),
    # The worker's and beat's connection: fail over in seconds when Redis is
    # down, without cutting the worker's blocking reads short. Requests
    # enqueue on their own faster-failing connection (ENQUEUE_TRANSPORT_OPTIONS).
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
}
CELERY_TASK_PUBLISH_RETRY = False
# What a request uses to enqueue (config/queue.py): its own connection that
# gives up within about 250 ms when Redis is down (connect 100 ms, a reply
# 150 ms, no retry). The worker keeps the broker's options above.
ENQUEUE_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 0.1,
    "socket_timeout": 0.15,
    "max_retries": 0,
    "retry_on_timeout": False,
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TIMEZONE = "UTC"

# --- Business settings ------------------------------------------------------
DEADLINE_VERIFICATION = env_duration("DEADLINE_VERIFICATION", "72h")
DEADLINE_VOTE = env_duration("DEADLINE_VOTE", "7d")
DEADLINE_MEASURES = env_duration("DEADLINE_MEASURES", "14d")
# The accused parties' reply window, from the case's move to attribution.
DEADLINE_REPLY = env_duration("DEADLINE_REPLY", "72h")
DEADLINE_SWEEP_INTERVAL = env_duration("DEADLINE_SWEEP_INTERVAL", "30s")
DEADLINE_REMINDER_BEFORE = env_duration("DEADLINE_REMINDER_BEFORE", "24h")
# Due deadlines the sweep settles per transaction (commission.services.sweep):
# 500 keeps a page's locks on its cases well under a second.
DEADLINE_SWEEP_PAGE = env_int("DEADLINE_SWEEP_PAGE", 500, minimum=1)

EVIDENCE_MAX_BYTES = env_size("EVIDENCE_MAX_BYTES", "25MB")
# Largest image (pixels actually decoded; JPEGs are decoded at up to 1/8 scale)
# for which a thumbnail is made; larger is refused as a decompression bomb.
EVIDENCE_IMAGE_MAX_PIXELS = env_int("EVIDENCE_IMAGE_MAX_PIXELS", 40_000_000, minimum=1)
SIMILAR_DISTANCE_M = env_float("SIMILAR_DISTANCE_M", 5000.0, minimum=0)
SIMILAR_WINDOW = env_duration("SIMILAR_WINDOW", "6h")
# Duplicate candidates shown per report (the inbox's cards, the similar/ API): the
# nearest ones. Bounded, so that a cluster of identical reports (one row
# imported a thousand times) costs each card this many, not a thousand.
SIMILAR_LIMIT = env_int("SIMILAR_LIMIT", 10, minimum=1)
# Tile server of the overview map, e.g. https://tiles.example.org/{z}/{x}/{y}.png;
# empty: the points are drawn on a plain background (closed networks).
MAP_TILE_URL = env_str("MAP_TILE_URL", "")
# The overview's "time to decision" table (an aggregate over every verified
# case) is kept this many seconds in the cache; 0: computed on every view.
OVERVIEW_CACHE_SECONDS = env_int("OVERVIEW_CACHE_SECONDS", 60, minimum=0)
REPORT_DESCRIPTION_MAX = env_int("REPORT_DESCRIPTION_MAX", 10000, minimum=1)
# A batch import (POST /api/v1/reports/import/) is refused with 413 above
# either limit: the whole batch is validated and written in one request.
REPORT_IMPORT_MAX_ROWS = env_int("REPORT_IMPORT_MAX_ROWS", 10000, minimum=1)
REPORT_IMPORT_MAX_BYTES = env_size("REPORT_IMPORT_MAX_BYTES", "32MB")
# A batch is checked in parts of this many rows on a second thread, each while
# the part before it is written (reports.imports, "one part ahead"); 0: the
# whole batch is checked first, then written.
REPORT_IMPORT_PART_ROWS = env_int("REPORT_IMPORT_PART_ROWS", 1000, minimum=0)

# The public bulletin (commission.services.bulletin): it covers one period
# (BULLETIN_PERIOD, aligned on UTC midnight for the default 24h), published
# only once the period ended BULLETIN_DELAY ago, with every location snapped
# to the centre of a BULLETIN_GRID_KM grid cell: the delay and the grid keep a
# bulletin from pointing at a monitor or a source (docs/security.md).
BULLETIN_PERIOD = env_duration("BULLETIN_PERIOD", "24h")
BULLETIN_DELAY = env_duration("BULLETIN_DELAY", "48h")
BULLETIN_GRID_KM = env_float("BULLETIN_GRID_KM", 10.0, minimum=1.0)
# Anonymous reads of GET /api/v1/bulletins/, per address.
BULLETIN_RATE = env_rate("BULLETIN_RATE", "120/min")
# Comments one person may post to cases' discussions through the API (a
# script gone wrong must not flood the thread and every mention's inbox).
COMMENT_RATE = env_rate("COMMENT_RATE", "30/min")

# Ed25519 private key of the commission (32 bytes, hex) that signs trail
# checkpoints. `make run` generates a development key into var/.
AUDIT_SIGNING_KEY = env_str("AUDIT_SIGNING_KEY", None)
# Fernet key (urlsafe base64 of 32 bytes) sealing open-round ballots at rest
# (commission/sealing.py); empty: derived from SECRET_KEY (development only,
# production requires its own). Kept outside the database, like SECRET_KEY.
BALLOT_SEALING_KEY = env_str("BALLOT_SEALING_KEY", "")
AUDIT_CHECKPOINT_INTERVAL = env_duration("AUDIT_CHECKPOINT_INTERVAL", "1h")
# After a commit, a process seals the trail at most once per this many
# milliseconds (a seal takes every process's pending events); 0 seals after
# every commit. docs/audit.md ("The window") says what it costs in delay.
AUDIT_SEAL_COALESCE_MS = env_int("AUDIT_SEAL_COALESCE_MS", 100, minimum=0)
# A batch of at least this many events (a bulk import) is sealed by a Celery
# worker after the commit instead of by the request; 0: always by the request.
AUDIT_SEAL_IN_WORKER_ROWS = env_int("AUDIT_SEAL_IN_WORKER_ROWS", 500, minimum=0)
# The exports (trail JSON Lines, reports CSV and GeoJSON) read this many rows
# per query (WHERE id > last ORDER BY id LIMIT n): memory stays at one batch,
# and no transaction stays open for the length of a download.
EXPORT_BATCH_SIZE = env_int("EXPORT_BATCH_SIZE", 5000, minimum=1)

# Uploads larger than this are refused by Django before they reach a view;
# the evidence view answers 413 for anything above EVIDENCE_MAX_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "commission@localhost")

# --- Sign-in that resists guessing ------------------------------------------
# After SIGNIN_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is locked out for SIGNIN_LOCKOUT (every further try
# restarts the wait). Per username *and* address: a stranger cannot lock the
# chair out of the commission from elsewhere. The API's token endpoint is also
# throttled per address (SIGNIN_RATE).
SIGNIN_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5, minimum=1)
SIGNIN_LOCKOUT = env_duration("SIGNIN_LOCKOUT", "15m")
SIGNIN_RATE = env_rate("SIGNIN_RATE", "20/min")
# Reverse proxies in front of the app that append to X-Forwarded-For (0: the
# client's address is REMOTE_ADDR). Wrong, and every sign-in seems to come
# from the proxy.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_FAILURE_LIMIT = SIGNIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = SIGNIN_LOCKOUT
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.views.signin_locked_out"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
AXES_VERBOSE = False
# Two-factor sign-in (TOTP, recovery codes) for the chair, members, auditors
# and staff: on the sign-in page, the admin and the API's token endpoint.
# Off in development (the demo logins of `make run` work with a password
# alone), on in production (config/settings_production.py).
REQUIRE_2FA = env_bool("REQUIRE_2FA", False)
# The name an authenticator app shows beside the account.
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Ceasefire commission")

# --- API --------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header is what makes DRF answer 401
    # (not 403) to a request that is not signed in.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's (only a SHA-512 digest of each token is stored), with the
        # user's roles read in the same statement.
        "accounts.authentication.TokenAuthentication",
        # A session that still owes its second factor authenticates nothing.
        "accounts.authentication.SessionAuthentication",
    ],
    # Deny by default: every view names the roles it admits on top of this.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env_int("API_PAGE_SIZE", 50, minimum=1),
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # JSON only: the browsable HTML renderer is off (it failed on paginated
    # lists asked for text/html); /api/docs/ is the browsable documentation.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Throttled: the token endpoint (accounts.api.TokenApi) and anonymous bulletin reads; 429 with Retry-After.
    "DEFAULT_THROTTLE_RATES": {"signin": SIGNIN_RATE, "bulletin": BULLETIN_RATE, "comment": COMMENT_RATE},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    # JSON bodies only (evidence upload names its own multipart parser): a
    # form-encoded body cannot say null, so the schema's nullable fields
    # could not be sent as documented.
    "DEFAULT_PARSER_CLASSES": ["config.api.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# How long an API token lives. Seven days: a field monitor on a bad
# connection signs in once for a rotation in the field and is not locked out
# of filing when the network lets a report through; a stolen token still dies
# within a week, and signing out, a password change, deactivation or the loss
# of a role revoke it at once.
TOKEN_TTL = env_duration("TOKEN_TTL", "7d")
KNOX_TOKEN_MODEL = "accounts.AuthToken"  # noqa: S105 (a model name, not a secret)
# knox's own migrations would create its (swapped-out) table anyway; with
# none, Django creates no table for a swapped model.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": TOKEN_TTL,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Ceasefire commission API",
    "DESCRIPTION": "Incident reports, verification, attribution votes, corrective measures and the decision trail.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Served by the project itself: the docs must work on a closed network.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The report's status (what a report shows) keeps its name beside the
    # statuses a monitor may file (reports.serializers.ReportInputSerializer).
    "ENUM_NAME_OVERRIDES": {"StatusEnum": "reports.models.ReportStatus",
                            "EmailModeEnum": "notifications.kinds.EMAIL_MODES",
                            # GeoJSON's fixed "type" members (reports and map clusters): named, not
                            # left to drf-spectacular's hashed "Type08eEnum" (a deploy-check warning).
                            "GeoJSONPointTypeEnum": ["Point"],
                            "GeoJSONFeatureTypeEnum": ["Feature"],
                            "GeoJSONFeatureCollectionTypeEnum": ["FeatureCollection"]},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.document_empty_query_values",
    ],
}

# --- Headers and the API docs (issue 10, item 6) ------------------------------
# Content-Security-Policy (django-csp 4.x): scripts, styles, images and
# requests from this origin only, no inline script or style anywhere (the
# templates use static files and CSS classes; tests/web/test_csp.py checks).
# A tile server configured for the overview map is the one other origin allowed,
# for images only.
_TILE_ORIGIN = "{0.scheme}://{0.netloc}".format(urlsplit(MAP_TILE_URL)) if MAP_TILE_URL else None
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the favicon placeholder and the images Swagger UI and Leaflet inline in their CSS.
        "img-src": [SELF, "data:", *([_TILE_ORIGIN] if _TILE_ORIGIN else [])],
        "connect-src": [SELF],
        "font-src": [SELF],
        # The report form's service worker (/sw.js) and web app manifest.
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware")
# Views marked with config.uploads.body_limit refuse an oversize body from its
# Content-Length, before CSRF's check would read (and spool) it.
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware"), "config.uploads.BodyLimitMiddleware")
# /api/schema/ and /api/docs/ without signing in: on in development, off in
# production (config/settings_production.py); signed-in people always see them.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Periodic work (one beat process; workers scale out) --------------------
# Deadlines live in the database; beat only asks "what is due now?". Every
# task here is safe to run twice or concurrently (claims, not assumptions).
CELERY_BEAT_SCHEDULE = {
    "sweep-deadlines": {
        "task": "commission.tasks.sweep_deadlines",
        "schedule": DEADLINE_SWEEP_INTERVAL.total_seconds(),
        # Ticks queued while no worker ran are dropped rather than all run on
        # restart: the next tick sweeps everything that is due anyway.
        "options": {"expires": max(DEADLINE_SWEEP_INTERVAL.total_seconds(), 1.0)},
    },
    "seal-trail": {
        "task": "audit.tasks.seal_trail",
        "schedule": env_duration("AUDIT_SEAL_INTERVAL", "5s").total_seconds(),
    },
    "publish-checkpoint": {
        "task": "audit.tasks.publish_checkpoint",
        "schedule": AUDIT_CHECKPOINT_INTERVAL.total_seconds(),
    },
    # Publishes the bulletin of the last period that is past its delay; a
    # no-op when it exists already, so an hourly tick publishes each period
    # once, also after beat or the workers were down.
    "publish-bulletin": {
        "task": "commission.tasks.publish_bulletin",
        "schedule": min(BULLETIN_PERIOD.total_seconds(), 3600.0),
    },
    # The daily digest of notifications people chose not to get at once; a
    # run finds nothing to send for items an earlier run claimed.
    "send-digests": {
        "task": "notifications.tasks.send_digests",
        "schedule": env_duration("NOTIFICATION_DIGEST_INTERVAL", "24h").total_seconds(),
    },
    # The full verification pass (pages verify only what follows its head).
    "verify-trail": {
        "task": "audit.tasks.verify_trail",
        "schedule": env_duration("AUDIT_VERIFY_INTERVAL", "24h").total_seconds(),
    },
}
