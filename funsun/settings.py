"""FunSun settings, read from the environment (and a `.env` file when present).

The table of variables lives in docs/PRODUCT.md ("Configuration"); every default here matches it.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE names another file (an installation's, or /dev/null to read none).
env_file = Path(env.str("ENV_FILE", default=str(BASE_DIR / ".env")))
if env_file.is_file():
    env.read_env(str(env_file))

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (set DEBUG=true for local development)."
        )
    # Development only: a fresh key per process start. Tokens do not survive a restart.
    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Background jobs: `manage.py run_huey` (the consumer), HUEY below.
    "huey.contrib.djhuey",
    # Jobs that failed for good, for operators (the admin's "Failed jobs").
    "jobs",
    "accounts",
    "payments",
    "fundings",
    "reports",
    "notifications",
    "web",
    # Demo data for a local server (manage.py seed_demo); refuses production-like setups.
    "demo",
]

MIDDLEWARE = [
    "funsun.middleware.BodySizeLimitMiddleware",
    "funsun.middleware.UnstorableTextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "funsun.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A browser paying from a share page comes back to the web, not to the app's page.
    "web.middleware.WebPaymentReturnMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "funsun.urls"
WSGI_APPLICATION = "funsun.wsgi.application"
# The app's routes are exact ("/funding/" and "/funding/public" differ): never redirect.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "funsun" / "templates"],
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

# --- Database ---------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Each thread keeps its connection between requests: opening one costs more than a request's
# queries (PostgreSQL: a new backend process; SQLite: the PRAGMAs below and the functions
# Django registers on every connection, about a millisecond of CPU).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=300)
# No health check before each request's first query: on PostgreSQL it is one more round
# trip on every request (about 0.1 ms of the app's CPU, a tenth of a read). The cost of going
# without: after the database restarts, each worker's first request on its dead connection
# fails (503, DatabaseUnavailableMiddleware) and Django drops that connection at the end of
# the request, so the next one reconnects. CONN_HEALTH_CHECKS=true trades the round trip
# for those few failures.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers write to one file: WAL lets readers run beside a writer,
    # IMMEDIATE takes the write lock when a transaction starts (no upgrade deadlocks), and
    # the busy timeout makes a writer wait instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and a statement run 5 times on a connection is
    # prepared there: PostgreSQL stops planning the same feed query on every request (its
    # planning cost as much as running it). The connections persist (above), so the
    # prepared statements do. A transaction-pooling PgBouncer in between would need
    # prepare_threshold None.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits live here, so they hold across processes with Redis) ---------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # The database number travels in the URL (redis://host:6379/2).
            "LOCATION": REDIS_URL,
            # Several deployments (or test runs) may share one Redis: keys never collide.
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="funsun"),
            # A stalled Redis must fail a request quickly, not hold a worker.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- The account behind a token (accounts/cache.py) -----------------------------------------
# Authentication reads each request's account from this cache, and every change to an account
# drops its entry, so it must be one cache for every process of the deployment: Redis when
# there is one, else files on this machine (a deployment without Redis is one machine: README
# "More hosts"). Keys carry the database's identity: two databases never share an entry.
ACCOUNT_CACHE_SECONDS = env.int("ACCOUNT_CACHE_SECONDS", default=60)
_db = DATABASES["default"]
_database_key = hashlib.sha256(
    "|".join(str(_db.get(part, "")) for part in ("ENGINE", "HOST", "PORT", "NAME")).encode()
).hexdigest()[:16]
if REDIS_URL:
    CACHES["accounts"] = {
        **CACHES["default"],
        "KEY_PREFIX": f"{CACHES['default']['KEY_PREFIX']}:{_database_key}",
    }
else:
    CACHES["accounts"] = {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": env.path("ACCOUNT_CACHE_DIR", default=BASE_DIR / "var" / "account-cache"),
        "KEY_PREFIX": _database_key,
        # One entry per account seen in the last ACCOUNT_CACHE_SECONDS; past this many,
        # Django drops a third of them.
        "OPTIONS": {"MAX_ENTRIES": env.int("ACCOUNT_CACHE_MAX_ENTRIES", default=10_000)},
    }

# --- Feed cards (fundings/selectors/cards.py) ----------------------------------------------
# What an edit changes of a funding, the same for every viewer, kept under a key that carries
# the row's `updated_on`: an entry is never wrong, only unused after an edit. So it may be each
# process's own memory, even beside Redis (no network round trip); MAX_ENTRIES bounds it
# (a few KB an entry). 0 seconds: the words are read with every page.
FUNDING_CARD_CACHE_SECONDS = env.int("FUNDING_CARD_CACHE_SECONDS", default=600)
CACHES["funding_cards"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "funding-cards",
    "OPTIONS": {"MAX_ENTRIES": env.int("FUNDING_CARD_CACHE_MAX_ENTRIES", default=5_000)},
}

# --- Background jobs (huey; README "Background jobs") ---------------------------------------
# The queue lives in Redis when there is one (every app server and consumer, on any machine,
# shares it), else in a SQLite file beside the SQLite database (or in var/): `make run` needs
# no broker. JOBS_BACKEND chooses explicitly. The consumer is `manage.py run_huey`.
JOBS_BACKEND = env.str("JOBS_BACKEND", default="redis" if REDIS_URL else "sqlite")
if JOBS_BACKEND not in {"sqlite", "redis"}:
    raise ImproperlyConfigured("JOBS_BACKEND must be 'sqlite' or 'redis'.")
if JOBS_BACKEND == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("JOBS_BACKEND=redis needs REDIS_URL.")
_sqlite_name = str(DATABASES["default"]["NAME"])
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" and _sqlite_name not in (
    "",
    ":memory:",
):
    # Beside the database its jobs name rows of: another checkout's consumer never runs them.
    _jobs_file = Path(_sqlite_name).with_name(Path(_sqlite_name).stem + "-jobs.sqlite3")
else:
    _jobs_file = BASE_DIR / "var" / "jobs.sqlite3"
JOBS_SQLITE_PATH = env.path("JOBS_SQLITE_PATH", default=_jobs_file)
HUEY = {
    # The queue's name: its Redis keys are huey.*.<name>, so deployments sharing a Redis
    # (CACHE_KEY_PREFIX) never run each other's jobs.
    "name": env.str("JOBS_QUEUE", default=env.str("CACHE_KEY_PREFIX", default="funsun")),
    # Jobs return nothing worth keeping; failures are recorded by the jobs app.
    "results": False,
    # Never inline in a request (djhuey's default follows DEBUG); the tests turn it on.
    "immediate": False,
    "utc": True,
    "consumer": {
        # Threads: the jobs wait on the network (the payment provider), not on the CPU.
        "workers": env.int("JOBS_WORKERS", default=2),
        "worker_type": "thread",
    },
}
if JOBS_BACKEND == "redis":
    import redis

    HUEY.update(
        {
            "huey_class": "huey.RedisHuey",
            # The database number travels in the URL. A stalled Redis must fail an enqueue
            # quickly, not hold a request (reconciliation finishes what was not enqueued).
            "connection_pool": redis.ConnectionPool.from_url(REDIS_URL, socket_connect_timeout=2),
        }
    )
else:
    Path(JOBS_SQLITE_PATH).parent.mkdir(parents=True, exist_ok=True)
    HUEY.update({"huey_class": "jobs.queue.SqliteHuey", "filename": str(JOBS_SQLITE_PATH)})

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.Account"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "Asia/Seoul"
# Dates in the admin as "2026-12-24 18:00" (funsun/formats/en/formats.py).
FORMAT_MODULE_PATH = ["funsun.formats"]
USE_I18N = True
USE_TZ = True

# --- Static files and media ---------------------------------------------------------------
# `collectstatic` gathers the admin's and the API docs' assets (drf-spectacular-sidecar: no
# CDN, so /swagger/ and /redoc/ render offline) into STATIC_ROOT. WhiteNoise serves them from
# the app server with hashed names and far-future caching; nginx may serve the same folder.
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Files served at the site's root (/favicon.ico), by WhiteNoise like the static files.
WHITENOISE_ROOT = BASE_DIR / "funsun" / "public"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Object storage (S3 or any S3-compatible server) for uploaded images, when a bucket is named.
# The app prefixes its base URL to every image path, so responses keep site-relative
# "/media/<key>" paths in this mode too (funsun.storage.MediaPathS3Storage) and the proxy
# serves /media/ from the bucket (deploy/nginx/media-s3.conf). Absolute bucket or CDN URLs
# would reach the app as "<base URL>https://..." and break every image.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    # An empty variable (compose passes unset ones as "") means "not set": AWS's defaults.
    AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
    AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
    # "path" (<endpoint>/<bucket>/<key>) suits MinIO and most S3-compatible servers;
    # "virtual" (<bucket>.<endpoint>/<key>) is AWS's preferred style. None: boto3 decides.
    AWS_S3_ADDRESSING_STYLE = env.str("AWS_S3_ADDRESSING_STYLE", default="") or None
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    # Without keys boto3 uses its own chain (instance role, ~/.aws); never commit keys.
    AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
    AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
    # Objects sit under this key prefix in the bucket ("" = the bucket's root).
    AWS_LOCATION = env.str("AWS_LOCATION", default="")
    AWS_QUERYSTRING_AUTH = False
    AWS_DEFAULT_ACL = None  # the bucket policy decides who may read, not per-object ACLs
    AWS_S3_FILE_OVERWRITE = False
    # Names are random and never reused, so a stored object never changes.
    AWS_S3_OBJECT_PARAMETERS = {"CacheControl": "public, max-age=31536000, immutable"}
    _default_storage = {"BACKEND": "funsun.storage.MediaPathS3Storage"}
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# The app server serves /media/ itself only while files live on the local disk (nginx
# serves it in production: the route is a fallback for `make run` and a proxy-less host).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=not AWS_STORAGE_BUCKET_NAME)

# Uploads: images up to 10 MB, whole request bodies up to 12 MB (docs/PRODUCT.md "Limits").
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_REQUEST_BYTES = 12 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o644

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.AccountJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["funsun.api.renderers.UTF8JSONRenderer"],
    # DRF's, refusing deep JSON and text the database cannot store (funsun/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "funsun.api.parsers.JSONParser",
        "funsun.api.parsers.FormParser",
        "funsun.api.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "funsun.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_INPUT_FORMATS": ["iso-8601"],
    "COERCE_DECIMAL_TO_STRING": False,
    # Rates of funsun/api/throttles.py, by scope (per account), scope + "_ip" (per client
    # address), scope + "_email_ip" (per email a sign-in names and address) and scope +
    # "_email" (per email, from addresses that never signed in to it: high enough that
    # strangers cannot lock an owner out). THROTTLE_RATES adjusts them.
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": "10/minute",
        "login_email_ip": "5/minute",
        "login_email": "50/hour",
        "signup_ip": "5/hour",
        "kakaologin_ip": "30/minute",
        "token_refresh_ip": "60/minute",
        "payment_ready": "30/minute",
        "payment_ready_ip": "60/minute",
        "report": "20/hour",
        "report_ip": "60/hour",
        # Toss's webhook and the buyer's return from its payment window (anonymous).
        "toss_webhook_ip": "120/minute",
        "toss_return_ip": "60/minute",
    },
}
# e.g. THROTTLE_RATES="login_ip=20/minute,payment_ready_ip=off": "off" lifts a limit (a load
# test from one address); an operator can tighten one during an attack without a release.
for _scope, _rate in env.dict("THROTTLE_RATES", default={}).items():
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][_scope] = (
        None if _rate.strip().lower() in ("", "off", "none") else _rate.strip()
    )

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("ACCESS_TOKEN_LIFETIME_MINUTES", 60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("REFRESH_TOKEN_LIFETIME_DAYS", 14)),
    "ROTATE_REFRESH_TOKENS": env.bool("ROTATE_REFRESH_TOKENS", default=True),
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "FunSun API",
    "DESCRIPTION": (
        "The HTTP API of FunSun, the gift crowdfunding platform. Lists are bare arrays, "
        "8 items a page (`page`), and a page past the end answers 204 with no body. "
        'Errors are `{"detail": ...}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SECURITY": [{"jwtAuth": []}],
    # `image_delete` and `review_image_delete` share one choice set: one name for it (two
    # names are a warning of `manage.py check --deploy`).
    "ENUM_NAME_OVERRIDES": {"DeleteFlagEnum": ["delete", ""]},
    # Image routes open on multipart; date-time examples in TIME_ZONE (funsun/api/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "funsun.api.openapi.postprocess",
    ],
}

# --- Kakao and payments -------------------------------------------------------------------
KAKAO_API_BASE_URL = env.str("KAKAO_API_BASE_URL", default="https://kapi.kakao.com").rstrip("/")
KAKAO_TIMEOUT_SECONDS = env.float("KAKAO_TIMEOUT_SECONDS", default=5.0)
# Sign-in with Kakao on the share pages (web/kakao.py): OAuth 2's authorization code flow.
KAKAO_AUTH_BASE_URL = env.str("KAKAO_AUTH_BASE_URL", default="https://kauth.kakao.com").rstrip("/")
KAKAO_REST_API_KEY = env.str("KAKAO_REST_API_KEY", default="")
KAKAO_CLIENT_SECRET = env.str("KAKAO_CLIENT_SECRET", default="")

# Push through Firebase Cloud Messaging (notifications/push.py): without a service-account
# file, notifications stay in the app.
FCM_CREDENTIALS_FILE = env.str("FCM_CREDENTIALS_FILE", default="")
FCM_PROJECT_ID = env.str("FCM_PROJECT_ID", default="")
FCM_API_BASE_URL = env.str("FCM_API_BASE_URL", default="https://fcm.googleapis.com")
FCM_TIMEOUT_SECONDS = env.float("FCM_TIMEOUT_SECONDS", default=10.0)
# Off: no event or reminder creates a notification (nor its push); pushes already
# planned still go out. The benchmark measures the contribution journey both ways.
NOTIFICATIONS_ENABLED = env.bool("NOTIFICATIONS_ENABLED", default=True)
# The public feed is the same page for everyone but staff: each page is kept this many
# seconds in the cache (CACHES: per process by default, shared with Redis), so a new or
# changed funding shows there at most this late. 0: read on every request.
PUBLIC_FEED_CACHE_SECONDS = env.int("PUBLIC_FEED_CACHE_SECONDS", default=2)
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="sandbox")
KAKAOPAY_API_BASE_URL = env.str(
    "KAKAOPAY_API_BASE_URL", default="https://open-api.kakaopay.com"
).rstrip("/")
KAKAOPAY_SECRET_KEY = env.str("KAKAOPAY_SECRET_KEY", default="")
KAKAOPAY_CID = env.str("KAKAOPAY_CID", default="TC0ONETIME")
# Kakao Pay gives up on its own processing after 11 s; we wait a little longer than that.
KAKAOPAY_TIMEOUT_SECONDS = env.float("KAKAOPAY_TIMEOUT_SECONDS", default=15.0)
# Toss Payments (docs/TOSS.md): the server API, its keys (a secret key for the server, a client
# key for the checkout page's payment window; payments/checks.py refuses a missing or mixed
# pair) and the window's script. Toss publishes no response time; 15 s like Kakao Pay.
TOSS_API_BASE_URL = env.str("TOSS_API_BASE_URL", default="https://api.tosspayments.com").rstrip("/")
TOSS_SECRET_KEY = env.str("TOSS_SECRET_KEY", default="")
TOSS_CLIENT_KEY = env.str("TOSS_CLIENT_KEY", default="")
TOSS_SDK_URL = env.str("TOSS_SDK_URL", default="https://js.tosspayments.com/v2/standard")
TOSS_TIMEOUT_SECONDS = env.float("TOSS_TIMEOUT_SECONDS", default=15.0)
# reconcile_payments: an approved payment that no /remit/ credited within this many minutes
# is refunded; a process's claim on a payment (e.g. a refund in flight) lapses after this
# many seconds, so that a crashed process's work is finished by the next run.
PAYMENT_CREDIT_GRACE_MINUTES = env.int("PAYMENT_CREDIT_GRACE_MINUTES", default=5)
PAYMENT_CLAIM_SECONDS = env.int("PAYMENT_CLAIM_SECONDS", default=300)
if PAYMENT_PROVIDER not in {"sandbox", "kakaopay", "toss"}:
    raise ImproperlyConfigured("PAYMENT_PROVIDER must be 'sandbox', 'kakaopay' or 'toss'.")
if PAYMENT_PROVIDER == "kakaopay" and not KAKAOPAY_SECRET_KEY:
    raise ImproperlyConfigured("KAKAOPAY_SECRET_KEY is required with PAYMENT_PROVIDER=kakaopay.")

# --- Security -------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Proxy headers. gunicorn listens on loopback only, so X-Forwarded-Proto can come from
# the proxy alone (deploy/nginx sets it, overwriting the client's): behind TLS, Django sees
# https. The client's address for rate limits is the last X-Forwarded-For entry added by
# our own proxies: NUM_PROXIES counts them (1 behind nginx); 0 means no proxy, so the
# header is ignored and a client cannot pick its own address to escape a limit.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
REST_FRAMEWORK["NUM_PROXIES"] = env.int("NUM_PROXIES", default=0)
# Behind nginx (which sets X-Forwarded-Proto) only plain-http requests are redirected;
# a local plain-http server (`make run`) sets SECURE_SSL_REDIRECT=false.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "funsun.logging.RedactSecretsFilter"}},
    # ISO 8601 times with the offset, in TIME_ZONE, as gunicorn's lines (gunicorn.conf.py).
    "formatters": {
        "plain": {
            "()": "funsun.logging.ZonedFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The jobs consumer (run_huey) adds a handler of its own, in its own format, to a
        # "huey" logger that has none: this one gives it ours, and each line once.
        "huey": {
            "handlers": ["console"],
            "level": env.str("LOG_LEVEL", default="INFO"),
            "propagate": False,
        },
    },
}
