"""Settings, read from the environment.

Every value a deployment changes comes from an environment variable; development gets safe
defaults (SQLite under var/, a local Redis, mail printed to the console) only while DEBUG is on.
"""

import datetime
import os
import re
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None


def env_float(name: str, default: float, *, zero: bool = False) -> float:
    """Seconds: more than 0 (or 0 itself where `zero` means "no limit") and under an hour."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, not {raw!r}") from None
    if not (0 <= value if zero else 0 < value) or value >= 3600:
        raise ImproperlyConfigured(
            f"{name} must be {'0 or more' if zero else 'more than 0'} and less than 3600 seconds, not {raw!r}"
        )
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment, or set DEBUG=true for development."
        )
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's list of security keys says "3 days ago"
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.usersessions",
    "core",
    "contracts",
    "audit",
    "tickets",
    "sla",
    "tmf621",
    "accounts",
]

MIDDLEWARE = [
    # First: whatever else reads the database answers 503 while it is away.
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the language is chosen: its refusal is in the reader's language.
    "config.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Who is asking, for the audit log's receivers (a right changed in the admin, a token made).
    "audit.middleware.CurrentRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A staff user without a second factor is taken to add one before any staff page.
    "accounts.middleware.StaffSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.PrivatePagesMiddleware",
    # Last: it answers a locked-out sign-in before the view sees it.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tickets.context_processors.unread_notices",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# Database: DATABASE_URL (postgres://user@host:5432/name), or an SQLite file under var/.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'servicedesk.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Limits on a database that stops answering (config/database.py): seconds to connect, and
# seconds a statement may run in a web request and in a worker (0: no limit).
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", 5)
DATABASE_STATEMENT_TIMEOUT = env_float("DATABASE_STATEMENT_TIMEOUT", 10.0, zero=True)
DATABASE_WORKER_STATEMENT_TIMEOUT = env_float("DATABASE_WORKER_STATEMENT_TIMEOUT", 600.0, zero=True)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["ENGINE"] = "config.postgresql"  # Django's, waiting at most so long
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = DATABASE_CONNECT_TIMEOUT
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # A file, not memory, so that a Celery worker started by a test sees the test's data.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    # Writers queue instead of failing: a transaction takes the write lock when it begins
    # (IMMEDIATE), so a reader turned writer never deadlocks and fails at once; a writer waits
    # for the lock up to the busy timeout; WAL lets pages be read while a report is written.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in lockout: after LOGIN_FAILURE_LIMIT wrong passwords for one user name from one address,
# that pair is refused (429) for LOGIN_LOCKOUT_MINUTES, even with the right password. A user name
# alone is not locked, so nobody can lock a customer out from elsewhere.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "core.web.client_ip"
AXES_VERBOSE = False

# One sign-in page for everyone (django-allauth's, in the product's templates); the Django
# admin's sign-in leads there too, so two factors and single sign-on apply to it.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER: bool | None = None  # the browser's session, as before
# The lockout above (django-axes) is the one limit on wrong passwords and codes.
ACCOUNT_RATE_LIMITS = False
ACCOUNT_FORMS = {"login": "accounts.adapters.PasswordLoginForm"}
AXES_USERNAME_CALLABLE = "accounts.adapters.lockout_username"

# Two factors: TOTP (any authenticator app), passkeys and security keys (WebAuthn), ten one-time
# recovery codes. STAFF_MFA_REQUIRED: a staff user adds one before any staff page and gives it at
# every sign-in (on outside development; it works in development when set).
STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", not DEBUG)
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_RECOVERY_CODE_COUNT = 10
MFA_TOTP_ISSUER = os.environ.get("MFA_TOTP_ISSUER", "Service desk")
MFA_TOTP_TOLERANCE = 1
MFA_RATE_LIMITS = False
# Users' addresses are set by staff and administrators, not confirmed by allauth's e-mails.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# WebAuthn over plain HTTP only on loopback in development and tests.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or env_bool("MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", False)
USERSESSIONS_TRACK_ACTIVITY = False

# Single sign-on by OpenID Connect (Entra ID, Google Workspace, Okta, Keycloak): the issuer's
# discovery document, the client registered there, and the sign-in button's text. The redirect URI
# to register at the provider: SITE_URL + /accounts/oidc/desk/login/callback/.
OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").rstrip("/")
OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
OIDC_LABEL = os.environ.get("OIDC_LABEL", "") or "Single sign-on"
# Groups of the id_token's `groups` claim whose members sign in as staff; without one, nobody
# becomes staff through sign-on. OIDC_ONLY_FOR_STAFF: staff may not sign in with a password.
OIDC_STAFF_GROUPS = env_list("OIDC_STAFF_GROUPS", [])
# The scopes asked for; Keycloak and some others send `groups` only for a scope of that name.
OIDC_SCOPES = env_list("OIDC_SCOPES", ["openid", "email", "profile"])
OIDC_ONLY_FOR_STAFF = env_bool("OIDC_ONLY_FOR_STAFF", False)
if OIDC_ISSUER and not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too")
if OIDC_ONLY_FOR_STAFF and not OIDC_ISSUER:
    raise ImproperlyConfigured("OIDC_ONLY_FOR_STAFF needs OIDC_ISSUER: staff would have no way to sign in")
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False

# A TOTP code is never accepted twice, whichever worker sees it: the cache is shared. CACHE_URL
# (redis://…) for Redis; without it, a table in the database.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
        if os.environ.get("CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "desk_cache"}
    ),
    # Large lists' row counts, remembered a few seconds in each process (core.api.pagination).
    "counts": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "counts"},
}

# Internationalisation: Swedish is the customers' language (the contracts are Swedish).
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Stockholm")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# E-mail: the console in development, SMTP when configured.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# A worker claims an e-mail row, commits, then speaks to the mail server; a claim older than
# this is taken as a worker killed mid-send, and the mail is sent again. Keep it well above
# EMAIL_TIMEOUT: a claim that lapses while the server still talks sends the mail twice.
MAIL_CLAIM_LEASE_SECONDS = env_int("MAIL_CLAIM_LEASE_SECONDS", 600)
# Where the file-based mail backend (EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend)
# writes its mails.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "sent-mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "support@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# The domain in the Message-ID of outgoing mail, by which replies are threaded to their ticket.
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get(
    "EMAIL_MESSAGE_ID_DOMAIN", DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
)

# Incoming mail from an IMAP mailbox, always over TLS: "ssl" (implicit TLS, port 993) or
# "starttls" (port 143). No IMAP_HOST: no polling (mail may still come in by `receive_email`).
IMAP_HOST = os.environ.get("IMAP_HOST", "")
IMAP_TLS = os.environ.get("IMAP_TLS", "ssl")
if IMAP_TLS not in ("ssl", "starttls"):
    raise ImproperlyConfigured('IMAP_TLS must be "ssl" or "starttls": mail is never fetched in clear text')
IMAP_PORT = env_int("IMAP_PORT", 993 if IMAP_TLS == "ssl" else 143)
IMAP_USER = os.environ.get("IMAP_USER", "")
IMAP_PASSWORD = os.environ.get("IMAP_PASSWORD", "")
IMAP_MAILBOX = os.environ.get("IMAP_MAILBOX", "INBOX")
# Taken mail is moved here; empty: it stays in IMAP_MAILBOX, marked as seen.
IMAP_PROCESSED_MAILBOX = os.environ.get("IMAP_PROCESSED_MAILBOX", "")
# A CA bundle for a server whose certificate the system does not trust (a private CA).
IMAP_CA_FILE = os.environ.get("IMAP_CA_FILE", "") or None
IMAP_TIMEOUT = env_int("IMAP_TIMEOUT", 30)
IMAP_BATCH = env_int("IMAP_BATCH", 100)
IMAP_POLL_SECONDS = env_int("IMAP_POLL_SECONDS", 60)

# Trust in the From address of incoming mail: the authserv-id our receiving mail server writes in
# its Authentication-Results header (RFC 8601). Set, a mail whose DMARC (or, without DMARC, SPF or
# DKIM) failed, or that our server did not check, is never placed automatically: it waits for
# staff. Empty: the From address is taken as it is written (the README says what that trusts).
MAIL_AUTHSERV_ID = os.environ.get("MAIL_AUTHSERV_ID", "")
# Stricter: also keep mail for staff when nothing verified the From domain (no DMARC, no aligned
# SPF or DKIM pass): for customers whose mail is always signed.
MAIL_HOLD_UNVERIFIED = env_bool("MAIL_HOLD_UNVERIFIED", False)
# The polite answer to an unknown sender: at most one per address within this many hours.
UNKNOWN_SENDER_ANSWER_HOURS = env_int("UNKNOWN_SENDER_ANSWER_HOURS", 24)
# Support addresses that belong to one terms' service, "support@dstny.example=dstny-alcom-2022"
# (comma-separated): a fault mailed there from a customer with several contracts is that service's.
SUPPORT_ADDRESS_TERMS: dict[str, str] = {}
for _pair in env_list("SUPPORT_ADDRESS_TERMS", []):
    _address, _sep, _slug = _pair.partition("=")
    if not _sep or "@" not in _address or not _slug.strip():
        raise ImproperlyConfigured(f"SUPPORT_ADDRESS_TERMS: {_pair!r} is not address=terms-slug")
    SUPPORT_ADDRESS_TERMS[_address.strip().lower()] = _slug.strip()

# Celery on Redis. "filesystem://" selects kombu's filesystem transport under var/ (used by
# `make run` when no Redis answers), so development works without a broker.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
# A task a worker took but never acknowledged (the worker died) is handed out again after this
# many seconds on Redis; tasks are acknowledged late, so it is redone, not lost.
# Each worker looks for such tasks every 10 seconds (one cheap sorted-set query on Redis).
# A Redis that stops answering without closing its connections (a stopped process, a dropped
# route) holds a command up to CELERY_BROKER_SOCKET_TIMEOUT seconds, and a new connection up to
# CELERY_BROKER_CONNECT_TIMEOUT: Redis answers in microseconds, half a second is plenty.
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {
    "visibility_timeout": env_int("CELERY_BROKER_VISIBILITY_TIMEOUT", 3600),
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
    "socket_timeout": env_float("CELERY_BROKER_SOCKET_TIMEOUT", 0.5),
    "socket_connect_timeout": env_float("CELERY_BROKER_CONNECT_TIMEOUT", 0.5),
    "socket_keepalive": True,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A broker that is down must not hold up the web request that queued the task: give up fast
# (one retry, for a connection Redis closed on restart), the row stays and the sweep below sends
# it. After a failure a process leaves the broker alone for BROKER_PAUSE_AFTER_FAILURE seconds
# (config/broker.py), so a hanging Redis costs one request a second, not every request.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
BROKER_PAUSE_AFTER_FAILURE = env_float("BROKER_PAUSE_AFTER_FAILURE", 15.0)
CELERY_BEAT_SCHEDULE = {
    "send-pending-notifications": {
        "task": "tickets.tasks.send_pending_notifications",
        "schedule": 60.0,
    },
    "close-unanswered-tickets": {  # D §16.7
        "task": "tickets.tasks.close_unanswered_tickets",
        "schedule": 180.0,
    },
    "remind-waiting-customers": {
        "task": "tickets.tasks.remind_waiting_customers",
        "schedule": 300.0,
    },
    "escalate-service-starts": {  # D §16.8
        "task": "tickets.tasks.escalate_service_starts",
        "schedule": 60.0,
    },
    "sla-store-last-month": {  # D §10: last month's reports, early on the 1st
        "task": "sla.tasks.store_last_month",
        "schedule": crontab(minute=30, hour=4, day_of_month=1),
    },
    "apply-retention": {  # personal data of long-closed tickets, at night
        "task": "tickets.tasks.apply_retention",
        "schedule": crontab(minute=15, hour=3),
    },
    "sla-recompute-stale-reports": {
        "task": "sla.tasks.recompute_stale_reports",
        "schedule": 3600.0,
    },
    "send-pending-notices": {  # D §28, §15.14: notices of changed terms and fees
        "task": "contracts.tasks.send_pending_notices",
        "schedule": 60.0,
    },
    "send-pending-outage-update-mails": {  # D §10.2: updates e-mailed to the affected customers
        "task": "sla.tasks.send_pending_outage_update_mails",
        "schedule": 60.0,
    },
    "tmf621-deliver-events": {  # TMF621 events the broker did not take, and retries
        "task": "tmf621.tasks.deliver_due_events",
        "schedule": 60.0,
    },
    "forget-idempotency-keys": {
        "task": "core.tasks.forget_idempotency_keys",
        "schedule": crontab(minute=45, hour=3),
    },
}
# TMF621 event listeners: how long a callback may take, and how many failures in a row disable it.
TMF621_CALLBACK_TIMEOUT = env_float("TMF621_CALLBACK_TIMEOUT", 5.0)
TMF621_LISTENER_MAX_FAILURES = env_int("TMF621_LISTENER_MAX_FAILURES", 10)
# Callbacks on loopback or private addresses: for development and tests only (SSRF otherwise).
TMF621_PRIVATE_CALLBACKS = env_bool("TMF621_PRIVATE_CALLBACKS", DEBUG)
# An Idempotency-Key (API) or a form's one-time token answers the same request again this long.
IDEMPOTENCY_HOURS = env_int("IDEMPOTENCY_HOURS", 24)

if IMAP_HOST:
    CELERY_BEAT_SCHEDULE["poll-mailbox"] = {  # D §16.7: reports by e-mail around the clock
        "task": "tickets.tasks.poll_mailbox",
        "schedule": float(IMAP_POLL_SECONDS),
        # A poll queued while no worker ran is not worth doing late: the next one takes it all.
        "options": {"expires": float(IMAP_POLL_SECONDS)},
    }


def _served_address() -> str:
    """The address `make run` serves (scripts/run.sh: HOST and PORT, 127.0.0.1:8000 by default)."""
    host = os.environ.get("HOST") or "127.0.0.1"
    port = os.environ.get("PORT") or "8000"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


# The address of the site, for links in e-mail and TMF621 hrefs. In development it follows the
# address served; production must say it (a guess would mail customers links to nowhere).
SITE_URL = (os.environ.get("SITE_URL") or (_served_address() if DEBUG else "")).rstrip("/")
if not SITE_URL:
    raise ImproperlyConfigured(
        "SITE_URL is not set: links in e-mail need the desk's address, e.g. https://desk.example.com. "
        "Set it in the environment, or set DEBUG=true for development."
    )
if not re.fullmatch(r"https?://[^/\s]+(/\S*)?", SITE_URL):
    raise ImproperlyConfigured(f"SITE_URL must be the desk's address, e.g. https://desk.example.com, not {SITE_URL!r}")
# Escalations for tickets nobody is assigned to go to the team's address.
SUPPORT_TEAM_EMAIL = os.environ.get("SUPPORT_TEAM_EMAIL", DEFAULT_FROM_EMAIL)
# The customer is reminded once when this share of the reply time is left (0.5 of 48 h: 24 h).
CUSTOMER_REPLY_REMINDER_SHARE = float(os.environ.get("CUSTOMER_REPLY_REMINDER_SHARE", "0.5"))
if not 0 < CUSTOMER_REPLY_REMINDER_SHARE < 1:
    raise ImproperlyConfigured("CUSTOMER_REPLY_REMINDER_SHARE must lie between 0 and 1")
# Staff are warned when this much business time is left before the service-start deadline.
ESCALATION_MARGIN_MINUTES = env_int("ESCALATION_MARGIN_MINUTES", 60)

# Personal data: attachments and phone numbers of tickets closed longer ago than this are removed
# by `manage.py apply_retention` (run daily by beat). Claims cite tickets, so keep it longer
# than the terms' claim window.
RETENTION_MONTHS = env_int("RETENTION_MONTHS", 24)
if RETENTION_MONTHS < 1:
    raise ImproperlyConfigured("RETENTION_MONTHS must be at least 1")
# The audit log (sign-ins, views of customers' data, rights) keeps its rows this many days; the
# same nightly task removes older ones.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 730)
if AUDIT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("AUDIT_RETENTION_DAYS must be at least 1")

# Ticket attachments (screenshots, logs): size limit and allowed types.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
ATTACHMENT_CONTENT_TYPES = env_list(
    "ATTACHMENT_CONTENT_TYPES",
    [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/zip",
        "application/vnd.tcpdump.pcap",
    ],
)
DATA_UPLOAD_MAX_MEMORY_SIZE = ATTACHMENT_MAX_BYTES + 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.TrackedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The API speaks JSON (attachments are uploaded through the pages).
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.StrictJSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PagePagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Service desk for hosted business telephony",
    "DESCRIPTION": "Contract terms, customers, contracts, fault reports and availability.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Monitoring's alerts fire or resolve (sla.api.monitoring).
    "ENUM_NAME_OVERRIDES": {"AlertStatusEnum": ["firing", "resolved"]},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.openapi.document_errors",
        "config.openapi.state_server_rules",
        "tmf621.schema.add_tmf621",
    ],
}

BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# HTTPS only outside development: redirect plain HTTP (not the health check a load balancer
# probes), and tell browsers to use HTTPS for a year (HSTS).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Joining the browsers' HSTS preload list binds every subdomain of the operator's domain to HTTPS
# for good: the domain's owner decides that (SECURE_HSTS_PRELOAD=true), so its check is silent.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Django's database sessions, the session read by a statement compiled once (core/sessions.py).
SESSION_ENGINE = "core.sessions"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Secure cookies outside development; a plain-HTTP test or demo server sets these to false.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Scripts only from the desk itself (the pages have no inline script); styles may be inline, as
# the API documentation's are. No framing, no plugins, forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
