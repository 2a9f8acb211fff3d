"""Flowyard settings: one module, driven by environment variables.

Two topologies share this file. Without DATABASE_URL/REDIS_URL Flowyard runs *embedded*:
SQLite in WAL mode, an in-memory channel layer and a Celery worker plus timer scheduler
inside the web process. With them it runs in *service mode*: PostgreSQL, Redis as broker
and channel layer, separate worker and scheduler processes.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
SERVICE_MODE = bool(DATABASE_URL and REDIS_URL)
EMBEDDED = not SERVICE_MODE

DEBUG = env_bool("DJANGO_DEBUG", False)
# Under pytest nothing starts on import; tests start the embedded worker explicitly.
TESTING = env_bool("FLOWYARD_TESTING", os.path.basename(sys.argv[0]) in {"pytest", "py.test"} or "pytest" in sys.modules)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if SERVICE_MODE:
        raise ImproperlyConfigured("SECRET_KEY must be set in service mode (DATABASE_URL and REDIS_URL are set).")
    SECRET_KEY = "embedded-insecure-key-only-for-local-use"

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "channels",
    "django_htmx",
    "config.apps.FlowyardConfig",
    "designer",
    "runtime",
    "webhooks",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "config.context_processors.flowyard",
                "runtime.context_processors.inbox",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
# Daphne serves each request from a fresh thread, and every thread kept its own persistent
# connection until it was collected (one Daphne under 16 clients opened 71 and hit
# PostgreSQL's limit); opening one per request instead cost 20-30 ms of every API call. So
# Daphne borrows connections from a bounded pool (the `human` benchmark's complete -> next
# task went from p50/p99 60/97 to 31/52 ms), and Celery workers, a fixed thread pool, keep
# one per thread: a new backend per wake-up costs more than the step it serves.
IS_CELERY_WORKER = "worker" in sys.argv[1:] and "celery" in sys.argv[0]
IS_WEB_SERVER = "daphne" in sys.argv[0]
DB_POOL_MAX = int(os.environ.get("DB_POOL_MAX", "8"))
DB_POOL = bool(DATABASE_URL) and IS_WEB_SERVER and DB_POOL_MAX > 0
DB_CONN_MAX_AGE = 0 if DB_POOL else int(os.environ.get("DB_CONN_MAX_AGE", "300" if IS_CELERY_WORKER else "0"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE,
                                                  conn_health_checks=not DB_POOL)}
    options = DATABASES["default"].setdefault("OPTIONS", {})
    # PostgreSQL's JIT spent 56-400 ms compiling inbox queries that run in 15-170 ms.
    options["options"] = "-c jit=off"
    # Django turns psycopg's prepared statements off (for transaction-pooling proxies such
    # as PgBouncer); the engine's fixed statements (runtime/store/) are bound on the server
    # and run thousands of times per connection, and a flight's plan cost PostgreSQL more
    # CPU than its execution. PG_PREPARE_THRESHOLD=0 turns them off again behind such a proxy.
    prepare_threshold = int(os.environ.get("PG_PREPARE_THRESHOLD", "5"))
    options["prepare_threshold"] = prepare_threshold if prepare_threshold > 0 else None
    if DB_POOL:  # checked out per request, back at its end; a burst waits up to 30 s for one
        options["pool"] = {"min_size": 2, "max_size": DB_POOL_MAX, "timeout": 30}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "var" / "flowyard.sqlite3")),
            "OPTIONS": {
                # WAL lets the in-process worker write while pages read; IMMEDIATE makes
                # writers queue on the busy timeout instead of failing on lock upgrade.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH") or None},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request otherwise
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor", BASE_DIR / "node_modules")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- channels -------------------------------------------------------------------------
if REDIS_URL:
    # runtime.channel_layer batches the engine's pushes. socket_timeout: channels-redis waits
    # for messages in 5 s BZPOPMINs, and redis-py 8 gives up reading after 5 s by default,
    # which closed every socket idle for 5 s with 1011. Connecting keeps a short timeout.
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "runtime.channel_layer.PushingRedisChannelLayer",
                    "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 5}]}}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_BROKER_TRANSPORT_OPTIONS = {} if REDIS_URL else {"polling_interval": 0.01}
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
# Celery's Django fixup closes DB connections around every task unless this is set; the
# worker keeps them per thread instead (config/celery.py closes broken or old ones).
CELERY_DB_REUSE_MAX = 1_000_000
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- REST -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "EXCEPTION_HANDLER": "runtime.api.errors.exception_handler",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("FLOWYARD_THROTTLE_ANON", "60/min"),
        "user": os.environ.get("FLOWYARD_THROTTLE_USER", "100000/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Flowyard API",
    "DESCRIPTION": "Deploy BPMN processes, run instances, work human tasks, correlate messages.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Flowyard -------------------------------------------------------------------------
# One namespaced dict; runtime/conf.py documents every key and holds the defaults
# (dict-valued keys merge over theirs).
FLOWYARD = {
    # Run a Celery worker and the timer scheduler inside the web process (embedded mode).
    "EMBEDDED_WORKER": env_bool("FLOWYARD_EMBEDDED_WORKER", EMBEDDED),
    # Python connector handlers a BPMN file may name (dotted paths or prefixes ending in '.').
    "PYTHON_HANDLERS": [h for h in os.environ.get("FLOWYARD_PYTHON_HANDLERS", "runtime.demo_handlers.").split(",") if h],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},  # logs every request at INFO
        "celery": {"level": os.environ.get("CELERY_LOG_LEVEL", "WARNING")},
    },
}

if not DEBUG and SERVICE_MODE:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
