"""Settings for the Fieldline portal: one module, every knob from the environment.

Every setting is read through django-environ from the process environment (and from a `.env`
file at the project root when one exists). Each has a default that is safe for the embedded demo
(SQLite under ``var/``, django-q2's ORM broker, the vendor sandbox on loopback). With ``DEBUG``
off, the settings that have no safe default (``SECRET_KEY``, ``FIELD_ENCRYPTION_KEYS``,
``ALLOWED_HOSTS``) must be given or start-up fails with ``ImproperlyConfigured``.

The README's "Settings" table lists every name read here.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

VAR_DIR = Path(env.str("FIELDLINE_VAR_DIR", default=str(BASE_DIR / "var")))

# The embedded demo runs with DEBUG on; production sets DEBUG=false and must then supply keys.
DEBUG = env.bool("DEBUG", default=True)


def _demo_secret(name: str, make: callable) -> str:
    """Return a secret kept in ``var/<name>``, creating it once (demo mode only).

    The file lives in the git-ignored ``var/`` folder, so a fresh clone runs without set-up and
    no key is ever committed.
    """
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


if env.str("SECRET_KEY", default=""):
    SECRET_KEY = env.str("SECRET_KEY")
elif DEBUG:
    SECRET_KEY = _demo_secret("secret_key", lambda: secrets.token_urlsafe(50))
else:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set and DEBUG is off. Generate one with: "
        'python -c "import secrets; print(secrets.token_urlsafe(50))" '
        "and put it in the environment as SECRET_KEY."
    )

# Keys for the credential vault, comma-separated, newest first (accounts/fields.py).
if env.str("FIELD_ENCRYPTION_KEYS", default=""):
    FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
elif DEBUG:
    FIELD_ENCRYPTION_KEYS = [
        _demo_secret("field_encryption_key", lambda: Fernet.generate_key().decode())
    ]
else:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS is not set and DEBUG is off. Generate a key with: "
        'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" '
        "and set FIELD_ENCRYPTION_KEYS=<new key>[,<older keys>] (newest first)."
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"] if DEBUG else []
)
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the portal's host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "accounts.staff",
    "connectors",
    "connectors.syncro",
    "connectors.synchroteam",
    "connectors.fieldcamp",
    "connectors.outbox",
    "connectors.webhooks",
    "connectors.events",
    # After connectors: its `qcluster` (bounded shutdown) replaces django-q2's command.
    "django_q",
    "billing",
    "dispatch",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.TenantMiddleware",
    "accounts.middleware.LocalTimeMiddleware",  # the person's or company's zone (issue 12)
    # After the tenant is known: owners, admins and approvers of a company that requires
    # two-step sign-in are sent to enrol or to the second step (accounts/mfa.py).
    "accounts.mfa.MfaRequiredMiddleware",
    # django-axes must be last: it turns a lockout into the locked-out page.
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
                "accounts.context_processors.portal",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs the web server, the django-q2 cluster and the sync engine against one file:
    # WAL lets readers work during a write, IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on the busy timeout instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache --------------------------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://fieldline")}

# --- authentication -----------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes: 5 failures for one (e-mail, IP) pair lock that pair out for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login form posts the e-mail address as `username` (Django's AuthenticationForm).
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_PROXY_COUNT", default=0) or None
AXES_VERBOSE = False
# The second sign-in step posts `code`: never stored in axes' attempt rows.
AXES_SENSITIVE_PARAMETERS = ["code"]

# --- staff invitations and two-step sign-in (accounts/staff, accounts/mfa.py) ---
# An invitation link works this many hours after it was (re)sent, once.
INVITATION_MAX_AGE_HOURS = env.int("INVITATION_MAX_AGE_HOURS", default=72)
# After the password, the code must be entered within this many seconds.
MFA_PENDING_SECONDS = env.int("MFA_PENDING_SECONDS", default=300)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Fieldline")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # django-otp's admin never shows a device's key

# --- e-mail ---
# EMAIL_URL (django-environ): consolemail:// (demo default: printed by the web process),
# filemail:///path/to/folder, smtp+tls://user:password@host:587 in production.
vars().update(env.email("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Fieldline <fieldline@localhost>")

# Sessions end 12 hours after sign-in (absolute lifetime) or at sign-out.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- security headers ---------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    # Off only for a production-settings run over plain HTTP on loopback (the load test).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# django-csp 4: no inline scripts or styles anywhere (htmx is a static file, configured by a meta
# tag; templates carry classes, never `style=`: tests/test_templates.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- i18n / time --------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str(
    "TIME_ZONE", default="UTC"
)  # signed out only; a company's own zone is Tenant.time_zone
# Home page: a "Waiting on Customer" ticket counts once it has not changed for this many days.
HOME_WAITING_ON_CUSTOMER_DAYS = env.int("HOME_WAITING_ON_CUSTOMER_DAYS", default=3)
# Reconciliation: seconds a computed unbilled-work snapshot is kept (dispatch.snapshots: any
# write to what it reads expires it sooner); 0 computes it on every view.
RECONCILIATION_CACHE_SECONDS = env.int("RECONCILIATION_CACHE_SECONDS", default=600)
USE_I18N = True
USE_TZ = True

# --- static files -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- credential vault ---------------------------------------------------------------------
# FIELD_ENCRYPTION_KEYS is set above (newest first). Rotation: put the new key first, run
# `manage.py rotate_encryption_keys`, then drop the old key.

# --- background work (django-q2) ----------------------------------------------------------
# ORM broker (delivery receipts): a task whose worker dies is handed out again after `retry`
# seconds. `retry` must exceed `timeout`, which must exceed the longest task, or a task would
# run twice while the first run is still going (django-q2 docs/brokers.rst, configure.rst).
Q_CLUSTER = {
    "name": env.str("Q_CLUSTER_NAME", default="fieldline"),
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    "retry": env.int("Q_RETRY", default=900),
    "max_attempts": env.int("Q_MAX_ATTEMPTS", default=3),
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 500,
    "queue_limit": 50,
    "poll": 0.5,
    "label": "Background tasks",
}
if env.str("Q_BROKER_REDIS_URL", default=""):
    Q_CLUSTER["redis"] = env.str("Q_BROKER_REDIS_URL")
else:
    Q_CLUSTER["orm"] = "default"
if Q_CLUSTER["retry"] <= Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured(
        "Q_RETRY must be greater than Q_TIMEOUT (django-q2 would run tasks twice)."
    )

# --- vendors and sandbox ------------------------------------------------------------------
# Where the demo's connections point and where `manage.py runsandbox` listens.
SANDBOX_URL = env.str("SANDBOX_URL", default="http://127.0.0.1:8765")
SANDBOX_DB_PATH = Path(env.str("SANDBOX_DB_PATH", default=str(VAR_DIR / "sandbox.sqlite3")))
# Redis for the shared rate limiter; empty = the database-backed limiter.
RATE_LIMIT_REDIS_URL = env.str("RATE_LIMIT_REDIS_URL", default="")

# --- connectors and sync ---
# Real vendor hosts (a Connection's base_url overrides them; the demo points at the sandbox).
SYNCRO_BASE_URL_TEMPLATE = env.str(
    "SYNCRO_BASE_URL_TEMPLATE", default="https://{account}.syncromsp.com/api/v1"
)
SYNCHROTEAM_BASE_URL = env.str("SYNCHROTEAM_BASE_URL", default="https://ws.synchroteam.com/api/v3")
FIELDCAMP_BASE_URL = env.str("FIELDCAMP_BASE_URL", default="https://api.fieldcamp.ai/api/v1")
# httpx: dotted path of a transport factory (tests/benchmarks: the in-process sandbox); empty = network.
CONNECTORS_TRANSPORT = env.str("CONNECTORS_TRANSPORT", default="")
# Connect a vendor (portal): API base URLs accepted besides the vendors' own hosts (URL prefixes);
# the demo allows its sandbox. Anything else typed into the form is refused (no SSRF by form).
CONNECTORS_ALLOWED_BASE_URLS = env.list(
    "CONNECTORS_ALLOWED_BASE_URLS", default=[SANDBOX_URL] if DEBUG else []
)
# Seconds a "Connect" or "Verify" request may wait for the shared rate limiter.
CONNECTORS_VERIFY_MAX_WAIT_SECONDS = env.float("CONNECTORS_VERIFY_MAX_WAIT_SECONDS", default=10.0)
CONNECTORS_HTTP_CONNECT_TIMEOUT = env.float("CONNECTORS_HTTP_CONNECT_TIMEOUT", default=5.0)
CONNECTORS_HTTP_READ_TIMEOUT = env.float("CONNECTORS_HTTP_READ_TIMEOUT", default=30.0)
CONNECTORS_HTTP_WRITE_TIMEOUT = env.float("CONNECTORS_HTTP_WRITE_TIMEOUT", default=10.0)
CONNECTORS_HTTP_POOL_TIMEOUT = env.float("CONNECTORS_HTTP_POOL_TIMEOUT", default=5.0)
# Safe GETs only: stamina retries (exponential backoff with jitter, Retry-After honoured).
CONNECTORS_GET_RETRY_ATTEMPTS = env.int("CONNECTORS_GET_RETRY_ATTEMPTS", default=5)
CONNECTORS_GET_RETRY_TIMEOUT = env.float("CONNECTORS_GET_RETRY_TIMEOUT", default=300.0)
CONNECTORS_GET_RETRY_WAIT_INITIAL = env.float("CONNECTORS_GET_RETRY_WAIT_INITIAL", default=1.0)
CONNECTORS_GET_RETRY_WAIT_MAX = env.float("CONNECTORS_GET_RETRY_WAIT_MAX", default=30.0)
# A Retry-After longer than this pauses the sync run instead of sleeping in the worker.
CONNECTORS_RETRY_AFTER_MAX = env.float("CONNECTORS_RETRY_AFTER_MAX", default=120.0)
# Shared rate limiter (pyrate-limiter): SQLite file + file lock (every process on this host) unless
# RATE_LIMIT_REDIS_URL is set (every host). Budgets are what we allow ourselves, below the vendor's.
RATE_LIMIT_SQLITE_PATH = env.str(
    "RATE_LIMIT_SQLITE_PATH", default=str(VAR_DIR / "ratelimit.sqlite")
)
RATE_LIMIT_MAX_WAIT_SECONDS = env.float("RATE_LIMIT_MAX_WAIT_SECONDS", default=90.0)
# Usage bookkeeping off the hot path: per-minute request counts (RequestUsage) are kept in memory
# and written every N requests or T seconds, at a 429, after a write, at the end of a sync and at
# exit; the shared LimitState (pauses, quota headers) is re-read at most every STATE seconds.
RATE_LIMIT_USAGE_FLUSH_REQUESTS = env.int("RATE_LIMIT_USAGE_FLUSH_REQUESTS", default=100)
RATE_LIMIT_USAGE_FLUSH_SECONDS = env.float("RATE_LIMIT_USAGE_FLUSH_SECONDS", default=5.0)
RATE_LIMIT_STATE_REFRESH_SECONDS = env.float("RATE_LIMIT_STATE_REFRESH_SECONDS", default=1.0)
# RequestUsage rows older than this are deleted nightly (schedule "usage:prune").
REQUEST_USAGE_RETENTION_DAYS = env.int("REQUEST_USAGE_RETENTION_DAYS", default=30)
SYNCRO_RATE_LIMIT_PER_MINUTE = env.int("SYNCRO_RATE_LIMIT_PER_MINUTE", default=180)  # vendor's
SYNCRO_RATE_BUDGET_PER_MINUTE = env.int("SYNCRO_RATE_BUDGET_PER_MINUTE", default=150)
SYNCRO_WRITE_RESERVE_PER_MINUTE = env.int("SYNCRO_WRITE_RESERVE_PER_MINUTE", default=30)
SYNCRO_TENANT_READ_SHARE_PER_MINUTE = env.int("SYNCRO_TENANT_READ_SHARE_PER_MINUTE", default=60)
SYNCRO_EGRESS_ID = env.str("SYNCRO_EGRESS_ID", default="default")  # one budget per egress IP
SYNCHROTEAM_RATE_LIMIT_PER_MINUTE = env.int("SYNCHROTEAM_RATE_LIMIT_PER_MINUTE", default=1000)
SYNCHROTEAM_RATE_BUDGET_PER_MINUTE = env.int("SYNCHROTEAM_RATE_BUDGET_PER_MINUTE", default=800)
SYNCHROTEAM_DAILY_QUOTA = env.int("SYNCHROTEAM_DAILY_QUOTA", default=15000)
SYNCHROTEAM_QUOTA_RESERVE = env.int("SYNCHROTEAM_QUOTA_RESERVE", default=500)
FIELDCAMP_RATE_BUDGET_PER_MINUTE = env.int("FIELDCAMP_RATE_BUDGET_PER_MINUTE", default=90)
FIELDCAMP_RATE_RESERVE = env.int("FIELDCAMP_RATE_RESERVE", default=5)
# Sync engine and schedules.
SYNC_INCREMENTAL_INTERVAL_MINUTES = env.int("SYNC_INCREMENTAL_INTERVAL_MINUTES", default=10)
SYNC_FULL_HOUR = env.int("SYNC_FULL_HOUR", default=2)  # UTC hour of the nightly full sweep
SYNC_OVERLAP_MINUTES = env.int("SYNC_OVERLAP_MINUTES", default=5)
SYNC_DELETE_MAX_FRACTION = env.float("SYNC_DELETE_MAX_FRACTION", default=0.10)
SYNC_HEARTBEAT_STALE_SECONDS = env.int("SYNC_HEARTBEAT_STALE_SECONDS", default=300)
SYNC_MAX_PAGES_PER_RUN = env.int("SYNC_MAX_PAGES_PER_RUN", default=100_000)
# Full sweeps of Syncro comments (one request per ticket) revisit tickets updated in this many
# days once the first sweep is complete; 0 = every ticket every time.
SYNC_COMMENTS_FULL_SWEEP_DAYS = env.int("SYNC_COMMENTS_FULL_SWEEP_DAYS", default=30)
# Syncro comments: at most this many tickets (one request each) per incremental; the rest of
# the tickets whose updated_at moved are carried to the next run (0 = no bound)
CONNECTORS_COMMENT_TICKETS_PER_RUN = env.int("CONNECTORS_COMMENT_TICKETS_PER_RUN", default=40)

# --- outbox (exactly-once vendor writes) ---
OUTBOX_MAX_SENDS = env.int("OUTBOX_MAX_SENDS", default=3)
OUTBOX_MAX_VERIFIES = env.int("OUTBOX_MAX_VERIFIES", default=5)
OUTBOX_NOT_FOUND_BEFORE_RESEND = env.int("OUTBOX_NOT_FOUND_BEFORE_RESEND", default=2)
OUTBOX_VERIFY_DELAY_SECONDS = env.float("OUTBOX_VERIFY_DELAY_SECONDS", default=20.0)
OUTBOX_RETRY_DELAY_SECONDS = env.float("OUTBOX_RETRY_DELAY_SECONDS", default=30.0)
# A claim's lease must outlast the longest vendor call (httpx timeouts + rate-limit wait).
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)
OUTBOX_SWEEP_BATCH = env.int("OUTBOX_SWEEP_BATCH", default=200)
OUTBOX_ENQUEUE = env.bool("OUTBOX_ENQUEUE", default=True)

# --- logging ------------------------------------------------------------------------------
# Every log record passes accounts.logging.redact_record (installed as the record factory in
# AccountsConfig.ready and as a handler filter here): vendor credentials and `api_key=` values
# never reach a log line, including httpx's "HTTP Request: GET <url>" records.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "accounts.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": env.str("HTTPX_LOG_LEVEL", default="WARNING")},
        "httpcore": {"level": "WARNING"},
        "django.db.backends": {"level": "INFO"},
    },
}

# Error pages and error e-mails scrub decrypted credentials and key-shaped strings whatever the
# variable's name, with DEBUG on too (accounts/debug.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "accounts.debug.SecretScrubbingFilter"
DEFAULT_EXCEPTION_REPORTER = "accounts.debug.SecretScrubbingReporter"

# --- dispatch and webhooks ---
# Portal changes (a job rescheduled, visits moved) are batched into one FieldCamp calendar sync
# once no further change has come for this many seconds (seed 002 "Batch related changes").
DISPATCH_CALENDAR_SYNC_DEBOUNCE_SECONDS = env.int(
    "DISPATCH_CALENDAR_SYNC_DEBOUNCE_SECONDS", default=60
)
# How often the HTMX panel polls a running FieldCamp sync job (seconds).
DISPATCH_SYNC_POLL_SECONDS = env.int("DISPATCH_SYNC_POLL_SECONDS", default=3)
# Inbound webhook bodies above this size are refused (bytes).
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=256 * 1024)
# Inbound webhook JSON nested deeper than this (arrays/objects) is refused before parsing.
WEBHOOK_MAX_JSON_DEPTH = env.int("WEBHOOK_MAX_JSON_DEPTH", default=64)
# A FieldCamp event whose envelope `created_at` is older than this is refused (seconds; the
# window must outlast FieldCamp's retry schedule, which is not published).
FIELDCAMP_WEBHOOK_MAX_AGE_SECONDS = env.int("FIELDCAMP_WEBHOOK_MAX_AGE_SECONDS", default=86400)
# Alert when a connection's refused webhook signatures reach this many in this many minutes.
WEBHOOK_SIGNATURE_ALERT_THRESHOLD = env.int("WEBHOOK_SIGNATURE_ALERT_THRESHOLD", default=20)
WEBHOOK_SIGNATURE_ALERT_MINUTES = env.int("WEBHOOK_SIGNATURE_ALERT_MINUTES", default=10)

# --- outbound webhooks (connectors/events/, docs/webhooks.md) ---
# Deliveries are handed to django-q2 on commit; off = only the sweep (or a test) sends them.
OUTBOUND_WEBHOOK_ENQUEUE = env.bool("OUTBOUND_WEBHOOK_ENQUEUE", default=True)
# Receivers on private, loopback or link-local hosts (and plain http://) are refused unless on:
# tests and the demo run their receivers on 127.0.0.1.
OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS = env.bool(
    "OUTBOUND_WEBHOOK_ALLOW_PRIVATE_HOSTS", default=False
)
# Seconds a receiver has to answer one POST.
OUTBOUND_WEBHOOK_TIMEOUT_SECONDS = env.float("OUTBOUND_WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Attempts per delivery (the first one included), then the delivery fails.
OUTBOUND_WEBHOOK_MAX_ATTEMPTS = env.int("OUTBOUND_WEBHOOK_MAX_ATTEMPTS", default=6)
# Backoff after attempt n: BASE * 4**(n-1) seconds (+ up to 10 % jitter), at most MAX.
OUTBOUND_WEBHOOK_RETRY_BASE_SECONDS = env.float("OUTBOUND_WEBHOOK_RETRY_BASE_SECONDS", default=60.0)
OUTBOUND_WEBHOOK_RETRY_MAX_SECONDS = env.float(
    "OUTBOUND_WEBHOOK_RETRY_MAX_SECONDS", default=6 * 3600.0
)
# Characters of a receiver's answer kept per attempt.
OUTBOUND_WEBHOOK_RESPONSE_CHARS = env.int("OUTBOUND_WEBHOOK_RESPONSE_CHARS", default=1000)
# Deliveries the every-minute sweep picks up at most.
OUTBOUND_WEBHOOK_SWEEP_BATCH = env.int("OUTBOUND_WEBHOOK_SWEEP_BATCH", default=200)
# A delivery page's re-send button works for this long (seconds).
OUTBOUND_WEBHOOK_RESEND_TOKEN_SECONDS = env.int(
    "OUTBOUND_WEBHOOK_RESEND_TOKEN_SECONDS", default=3600
)

# --- job reports and photos on demand (dispatch job and equipment pages) ---
# A cached Synchroteam job report / photo list is fetched again after this many seconds.
SYNCHROTEAM_JOB_REPORT_TTL_SECONDS = env.int("SYNCHROTEAM_JOB_REPORT_TTL_SECONDS", default=3600)
# A "Fetch again" within this many seconds of the last fetch serves the copy (no request).
SYNCHROTEAM_JOB_REFRESH_MIN_SECONDS = env.int("SYNCHROTEAM_JOB_REFRESH_MIN_SECONDS", default=60)

# --- alerts (connectors/alerts/) ---
# A stream alert opens after this many failed runs in a row, or this many hours without success.
ALERTS_FAILURES_IN_A_ROW = env.int("ALERTS_FAILURES_IN_A_ROW", default=3)
ALERTS_NO_SUCCESS_HOURS = env.int("ALERTS_NO_SUCCESS_HOURS", default=24)
# An alert e-mail the backend refused is tried again by later evaluations for this many hours.
ALERTS_EMAIL_RETRY_HOURS = env.int("ALERTS_EMAIL_RETRY_HOURS", default=24)
# The portal's address as staff reach it, for links in e-mails sent by background tasks.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")
