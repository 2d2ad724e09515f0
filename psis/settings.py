"""PSIS Monitor settings: one env-driven file.

SQLite unless DATABASE_URL is set; DEBUG defaults off; production (DEBUG off) refuses to serve
without SECRET_KEY (psis/checks.py). A true/false or number variable that does not read as one
refuses to start. Every variable is documented in .env.example.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0"})


def _raw(name: str) -> str:
    """The variable's value with surrounding blanks removed; "" when unset or empty."""
    return env.str(name, default="").strip()


def env_bool(name: str, default: bool) -> bool:
    """A true/false variable, read strictly: a typo refuses to start instead of reading False.

    Accepts true/false, yes/no, on/off and 1/0 in any case; unset or empty means the default.
    """
    value = _raw(name)
    if not value:
        return default
    if value.lower() in _TRUE_WORDS:
        return True
    if value.lower() in _FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a true/false value: use true or false "
        "(or yes/no, on/off, 1/0). See .env.example."
    )


def env_int(name: str, default: int) -> int:
    """A whole-number variable; anything else refuses to start. Unset or empty: the default."""
    value = _raw(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a whole number. See .env.example."
        ) from None


DEBUG = env_bool("DEBUG", default=False)
TESTING = env_bool("PSIS_TESTING", default=False)

# With DEBUG off and no key, SECRET_KEY stays empty instead of refusing here, so commands that
# read only the code (`manage.py makemigrations --check`, `manage.py check`) run on a fresh
# checkout. Nothing can sign with an empty key: Django refuses the first time anything reads it,
# and serving refuses at once (psis/wsgi.py, which gunicorn and runserver load, and the deploy
# check psis.E001 that scripts/serve.sh runs first; see psis/checks.py).
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and (DEBUG or TESTING):
    SECRET_KEY = "insecure-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "simple_history",
    "django_tasks_db",
    "axes",
    "psis",
    "contracts",
    "pathways",
    "kpis",
    "reports",
    "performance",
    "meetings",
    "exits",
    "demo",
    "home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, which would otherwise meet an oversized post first.
    "reports.middleware.OversizedPostMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Cache-Control: private, no-store on every response to a signed-in user (shared PCs).
    "psis.middleware.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "psis.urls"
WSGI_APPLICATION = "psis.wsgi.application"

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
                "django.template.context_processors.csp",
            ],
        },
    },
]

# Database: SQLite by default (zero set-up); PostgreSQL in production via DATABASE_URL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions avoid "database is locked" under concurrent writes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "contracts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    # First: refuses sign-in while an account is locked out after repeated failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock out a username from one address after 5 failures in a row, and an address for every
# username after 20 failures, each for 15 minutes (not forever). See psis/sign_in.py.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "psis.sign_in.PairAndAddressLockoutHandler"
# The client address is read from X-Forwarded-For past this many proxies in front of the app
# (0: REMOTE_ADDR, the app is reached directly). See psis/sign_in.py and README's Deployment.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_COUNT={str(TRUSTED_PROXY_COUNT)!r} is below 0: give the number of proxies "
        "in front of the app (0 for none). See .env.example."
    )
AXES_CLIENT_IP_CALLABLE = "psis.sign_in.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # zxcvbn estimates how many guesses a password would take (dictionary words, names, dates,
    # keyboard walks, repeats, l33t), so "Password2026" and "aaaaaaaaaaaa" fail the 12 characters'
    # intent; it explains why and how to do better.
    {"NAME": "django_zxcvbn_password_validator.ZxcvbnPasswordValidator"},
]
# zxcvbn score 0-4: 3 is "safely unguessable" (about 10^10 guesses), which passphrases of three
# or four words meet. Terms a password should not lean on, beyond the person's own details:
PASSWORD_MINIMAL_STRENGTH = 3
PASSWORD_EXTRA_DICTIONARY = ["psis", "monitor", "bromley", "council", "commissioner", "provider"]

if TESTING:
    # Hashing is deliberately slow; tests sign in hundreds of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True
DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "j F Y, H:i"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# What one post may hold. A return's typed text is at most about a hundred boxes of 10,000
# characters (reports.validation.TEXT_LIMIT), up to 4 MB in UTF-8: 10 MB lets the form itself
# refuse a box that is too long, with everything typed shown again. Beyond these limits the
# return page comes back saying nothing was saved (reports.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 100

MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploaded evidence and generated packs go through the storage API: local disk by default, or
# S3-compatible object storage (install the "s3" extra) so several app servers can share files.
if env.str("MEDIA_STORAGE", default="local") == "s3":
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default=None),
            "region_name": env.str("S3_REGION", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Evidence files (not figures) older than this, counted from the end of their quarter, are listed
# and, when confirmed, deleted by `manage.py purge_evidence`.
EVIDENCE_RETENTION_DAYS = env_int("EVIDENCE_RETENTION_DAYS", default=6 * 365)
# Contract-exit ZIPs (exits/tasks.py): the latest this many finished ones of a contract are kept;
# older ones and their files are deleted when a new one is made. A job running longer than
# EXIT_JOB_TIMEOUT_MINUTES, or waiting for a worker longer than EXIT_QUEUE_TIMEOUT_MINUTES, is
# marked failed by `manage.py reap_stuck_jobs` (and by the worker before each job).
EXIT_ARCHIVES_KEPT = env_int("EXIT_ARCHIVES_KEPT", default=3)
EXIT_JOB_TIMEOUT_MINUTES = env_int("EXIT_JOB_TIMEOUT_MINUTES", default=60)
EXIT_QUEUE_TIMEOUT_MINUTES = env_int("EXIT_QUEUE_TIMEOUT_MINUTES", default=60)

# Dashboard results are kept in each process, keyed by what they are read from (so never stale):
# at most this many quarters' results, each for at most this many seconds (kpis/results_cache.py).
RESULTS_CACHE_SIZE = env_int("RESULTS_CACHE_SIZE", default=32)
RESULTS_CACHE_SECONDS = env_int("RESULTS_CACHE_SECONDS", default=600)

STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Background work (pack generation): Django's tasks framework with a database-backed worker.
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}
# A meeting pack job still running after this many minutes, or still waiting for a worker after
# this many, is marked failed so it can be generated again (reports/pack_tasks.py).
PACK_JOB_TIMEOUT_MINUTES = env_int("PACK_JOB_TIMEOUT_MINUTES", default=15)
PACK_QUEUE_TIMEOUT_MINUTES = env_int("PACK_QUEUE_TIMEOUT_MINUTES", default=60)

# Content Security Policy: everything is served by the app itself; no CDN, no inline script.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# The load balancer probes /health/ over plain HTTP on the app server: never redirect it to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

MAILERS = {
    "default": {
        "BACKEND": env.str(
            "EMAIL_BACKEND",
            default="django.core.mail.backends."
            + ("console" if DEBUG or TESTING else "smtp")
            + ".EmailBackend",
        ),
    }
}
# The address people use to reach the app, for links in emails (e.g. https://psis.example.gov.uk).
PSIS_BASE_URL = env.str("PSIS_BASE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="psis-monitor@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
