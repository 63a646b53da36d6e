"""The single settings module. Every difference between environments comes from the
environment (see the README's configuration table); nothing is production-only code.
"""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off (make run sets both)."
        )
    SECRET_KEY = "insecure-local-only-key"  # noqa: S105 - only ever used with DEBUG on

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # range fields and the staff exclusion constraint
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "webinars",
    "billing",
    "events",
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
]

# The attendees' join path (events/urls.py: /j/<token>/, /seat, /heartbeat) is served by
# its own handler with only these (config/wsgi.py): a flash crowd's joins pay for no
# session, CSRF, authentication, messages or login-lockout middleware.
JOIN_PATH_PREFIX = "/j/"
JOIN_PATH_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

if not env("DATABASE_URL", default=""):
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. `make run` / `make test` start an embedded PostgreSQL "
        "and set it for you; otherwise export a postgresql:// URL."
    )
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "webinars.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "webinars:dashboard"
LOGOUT_REDIRECT_URL = "pricing"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Dates and times printed without a format (the admin) read "2027-01-15 14:00 UTC".
FORMAT_MODULE_PATH = "config.formats"

STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / ".local" / "static")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / ".local" / "media")

# Email: console locally; an SMTP URL (smtp://user:pass@host:587/?tls=True) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Mega Webinars <bookings@localhost>")

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
# Late acks + reject-on-lost: a worker killed mid-task leaves the message on the broker,
# and every task is idempotent, so the redelivery finishes the work exactly once.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
# A region's provider calls go to the queue `relays.<region>` (events/routing.py).
CELERY_TASK_ROUTES = ["events.routing.route_task"]
CELERY_BEAT_SCHEDULE = {
    "expire-holds": {
        "task": "webinars.tasks.expire_holds_task",
        "schedule": timedelta(seconds=env.int("HOLD_SWEEP_SECONDS", default=30)),
    },
    "retry-stuck-stripe-events": {
        "task": "billing.tasks.retry_stuck_events_task",
        "schedule": timedelta(minutes=5),
    },
    "retry-stuck-refunds": {
        "task": "billing.tasks.retry_stuck_refunds_task",
        "schedule": timedelta(minutes=10),
    },
    "provision-due-clusters": {
        "task": "events.tasks.provision_due_clusters_task",
        "schedule": timedelta(seconds=15),
    },
    "check-cluster-readiness": {
        "task": "events.tasks.check_readiness_task",
        "schedule": timedelta(minutes=1),
    },
    "start-due-webinars": {
        "task": "events.tasks.start_due_webinars_task",
        "schedule": timedelta(seconds=15),
    },
    "complete-due-webinars": {
        "task": "events.tasks.complete_due_webinars_task",
        "schedule": timedelta(minutes=1),
    },
    "monitor-clusters": {
        "task": "events.tasks.monitor_clusters_task",
        "schedule": timedelta(seconds=30),
    },
    "teardown-due-clusters": {
        "task": "events.tasks.teardown_due_clusters_task",
        "schedule": timedelta(minutes=1),
    },
    "fill-open-staff-roles": {
        "task": "events.tasks.fill_open_roles_task",
        "schedule": timedelta(minutes=env.int("STAFF_RETRY_MINUTES", default=15)),
    },
    "publish-admission": {
        "task": "events.tasks.publish_due_admissions_task",
        "schedule": timedelta(seconds=30),
    },
    "monthly-accounting-export": {
        "task": "billing.tasks.monthly_export_task",
        "schedule": crontab(minute=0, hour=6, day_of_month=1),
    },
}

# API throttling counts in Redis, so the gunicorn workers share one budget per client (a
# per-process cache would multiply every rate by the number of workers). Nothing else
# caches yet: the default cache stays Django's per-process memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api-throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "api-throttle",
    },
}
REST_FRAMEWORK = {
    # Basic first: missing or wrong credentials answer 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "webinars.api.guards.BasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, with depth and NUL limits (webinars.api.guards.JSONParser).
    "DEFAULT_PARSER_CLASSES": ["webinars.api.guards.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "webinars.api.guards.AnonThrottle",
        "webinars.api.guards.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "anon_quote": env("API_THROTTLE_ANON_QUOTE", default="10/minute"),
        "user": env("API_THROTTLE_USER", default="300/minute"),
    },
    # Reverse proxies in front of the app: the anonymous throttle then counts the client
    # address from X-Forwarded-For instead of the proxy's.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=None),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "webinars.api.views.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "Mega Webinars API",
    "DESCRIPTION": "Quotes, holds and bookings for single-use mega-webinar packages.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "ENUM_NAME_OVERRIDES": {
        "PresetAudienceEnum": "webinars.api.serializers.PRESET_AUDIENCES",
        "CustomAudienceEnum": "webinars.api.serializers.CUSTOM_AUDIENCE",
    },
}

# Booking rules (webinars app).
HOLD_MINUTES = env.int("HOLD_MINUTES", default=30)
# Unpaid holds one organisation may have at once (0 = no limit): holds are free, so this
# stops one sign-up from blocking the fleet.
MAX_UNPAID_HOLDS = env.int("MAX_UNPAID_HOLDS", default=5)
BOOKING_HORIZON_DAYS = env.int("BOOKING_HORIZON_DAYS", default=365)
ALTERNATIVE_SEARCH_DAYS = env.int("ALTERNATIVE_SEARCH_DAYS", default=7)

# Relay-cluster sizing; the formula and its reasons are in webinars/sizing.py.
SIZING_VIEWERS_PER_EDGE = env.int("SIZING_VIEWERS_PER_EDGE", default=1050)
SIZING_SURGE = env.float("SIZING_SURGE", default=1.0)
SIZING_SPARE_RATIO = env.float("SIZING_SPARE_RATIO", default=0.10)
SIZING_RELAYS_PER_REGION = env.int("SIZING_RELAYS_PER_REGION", default=2)
SIZING_ORIGINS = env.int("SIZING_ORIGINS", default=2)

# --- Relay clusters (events): providers -------------------------------------------------
# Which engine runs the relays: `janus` (real Janus processes on this machine), `simulated`
# (a cloud simulation) or `aws` (EC2 Auto Scaling). Unset: janus when the Janus binary is
# installed, else the simulation; events.providers.base logs the choice once per process.
RELAY_JANUS_BINARY = env("RELAY_JANUS_BINARY", default="/usr/bin/janus")
RELAY_PROVIDER = env("RELAY_PROVIDER", default="")
if RELAY_PROVIDER:
    RELAY_PROVIDER_SOURCE = "set by RELAY_PROVIDER"
elif Path(RELAY_JANUS_BINARY).exists():
    RELAY_PROVIDER, RELAY_PROVIDER_SOURCE = "janus", f"default: {RELAY_JANUS_BINARY} found"
else:
    RELAY_PROVIDER = "simulated"
    RELAY_PROVIDER_SOURCE = f"default: {RELAY_JANUS_BINARY} not installed, cloud simulation"
# Provider calls wait at most this long for a rate-limit token, then raise RateLimited.
RELAY_RATE_MAX_WAIT_S = env.float("RELAY_RATE_MAX_WAIT_S", default=30.0)
# Local Janus relays (events/providers/janus.py): configs, logs and pid files live here.
_LOCAL_DATA_DIR = Path(env("LOCAL_DATA_DIR", default=str(BASE_DIR / ".local")))
RELAY_DATA_DIR = env.path("RELAY_DATA_DIR", default=_LOCAL_DATA_DIR / "relays")
RELAY_JANUS_PORTS = env("RELAY_JANUS_PORTS", default="20000-29999")  # below the ephemeral range
RELAY_JANUS_NODES_PER_PROCESS = env.int("RELAY_JANUS_NODES_PER_PROCESS", default=50)
RELAY_JANUS_MAX_PROCESSES = env.int("RELAY_JANUS_MAX_PROCESSES", default=60)
RELAY_JANUS_TEST_STUDIO = env.bool("RELAY_JANUS_TEST_STUDIO", default=True)
RELAY_MEDIA_FRESH_MS = env.int("RELAY_MEDIA_FRESH_MS", default=1000)
# Relay clusters (events/services): the provisioning loop and its claim, the late alert,
# and node-hour rates in minor units per region and role ("default" for the rest).
RELAY_POLL_INTERVAL_S = env.float("RELAY_POLL_INTERVAL_S", default=2.0)
RELAY_PROVISION_WAIT_S = env.float("RELAY_PROVISION_WAIT_S", default=240.0)
RELAY_CLAIM_TTL_S = env.int("RELAY_CLAIM_TTL_S", default=60)
# Cloud providers' node creation runs on the region queues (events/routing.py); off, the
# coordinator calls the provider itself, one thread per region.
RELAY_REGION_QUEUES = env.bool("RELAY_REGION_QUEUES", default=True)
RELAY_REGION_DISPATCH_TIMEOUT_S = env.int("RELAY_REGION_DISPATCH_TIMEOUT_S", default=300)
RELAY_READY_ALERT_MINUTES = env.int("RELAY_READY_ALERT_MINUTES", default=10)
RELAY_HOURLY_RATES = env.json(
    "RELAY_HOURLY_RATES",
    default={"default": {"origin": 68, "relay": 68, "edge": 136, "spare": 136}},
)
# Cloud simulation (events/providers/simulated.py); seconds are simulated seconds.
RELAY_SIM_BOOT_MEAN_S = env.float("RELAY_SIM_BOOT_MEAN_S", default=60.0)
RELAY_SIM_BOOT_JITTER_S = env.float("RELAY_SIM_BOOT_JITTER_S", default=15.0)
RELAY_SIM_FAILURE_RATE = env.float("RELAY_SIM_FAILURE_RATE", default=0.05)
RELAY_SIM_QUOTA_PER_REGION = env.int("RELAY_SIM_QUOTA_PER_REGION", default=1200)
RELAY_SIM_REGION_QUOTAS = env.json("RELAY_SIM_REGION_QUOTAS", default={})
RELAY_SIM_API_RATE = env.float("RELAY_SIM_API_RATE", default=20.0)
RELAY_SIM_API_BURST = env.int("RELAY_SIM_API_BURST", default=20)
RELAY_SIM_TIME_SCALE = env.float("RELAY_SIM_TIME_SCALE", default=1.0)
RELAY_SIM_SEED = env("RELAY_SIM_SEED", default="")
# EC2 Auto Scaling (events/providers/aws.py). Credentials come from the usual AWS chain.
RELAY_AWS_ENDPOINT_URL = env("RELAY_AWS_ENDPOINT_URL", default="")
RELAY_AWS_REGIONS = env.json(
    "RELAY_AWS_REGIONS",
    default={
        "us-east": "us-east-1",
        "us-west": "us-west-2",
        "sa-east": "sa-east-1",
        "eu-west": "eu-west-1",
        "eu-central": "eu-central-1",
        "ap-south": "ap-south-1",
        "ap-southeast": "ap-southeast-1",
        "ap-northeast": "ap-northeast-1",
    },
)
RELAY_AWS_IMAGE_ID = env("RELAY_AWS_IMAGE_ID", default="")
RELAY_AWS_INSTANCE_TYPES = env.json(
    "RELAY_AWS_INSTANCE_TYPES",
    default={"origin": "c6i.2xlarge", "relay": "c6i.2xlarge", "edge": "c6i.4xlarge"},
)
RELAY_AWS_SUBNETS = env.json("RELAY_AWS_SUBNETS", default={})  # region -> "subnet-a,subnet-b"
RELAY_AWS_NAME_PREFIX = env("RELAY_AWS_NAME_PREFIX", default="relay")
RELAY_AWS_MAX_GROUP_SIZE = env.int("RELAY_AWS_MAX_GROUP_SIZE", default=2000)
RELAY_AWS_API_RATE = env.float("RELAY_AWS_API_RATE", default=10.0)
RELAY_AWS_API_BURST = env.int("RELAY_AWS_API_BURST", default=20)

# --- Attendees: admission (events/services/admission.py, docs/attendees.md) ------------
# The join path's Redis: REDIS_URL unless set; a Redis Cluster with ATTENDEE_REDIS_CLUSTER
# (every webinar's keys share one hash tag, so each webinar lives on one shard).
ATTENDEE_REDIS_URL = env("ATTENDEE_REDIS_URL", default="")
ATTENDEE_REDIS_CLUSTER = env.bool("ATTENDEE_REDIS_CLUSTER", default=False)
# Request header naming the viewer's region (set by the CDN), e.g. X-Viewer-Region; empty =
# route by the region of registration only.
ATTENDEE_GEO_HEADER = env("ATTENDEE_GEO_HEADER", default="")
ATTENDEE_DOORS_OPEN_MINUTES = env.int("ATTENDEE_DOORS_OPEN_MINUTES", default=15)
ATTENDEE_HEARTBEAT_S = env.int("ATTENDEE_HEARTBEAT_S", default=30)
ATTENDEE_SEAT_TTL_S = env.int("ATTENDEE_SEAT_TTL_S", default=90)
ATTENDEE_VIEWER_TOKEN_TTL_S = env.int("ATTENDEE_VIEWER_TOKEN_TTL_S", default=120)
ATTENDEE_SWEEP_PER_JOIN = env.int("ATTENDEE_SWEEP_PER_JOIN", default=100)
# Join pages and seat requests per client address (and webinar): tokens per second and
# burst. Generous: many viewers share one address behind office NATs and mobile carriers.
# Heartbeats are not counted (see events/lua/admission_heartbeat.lua).
ATTENDEE_RATE_PER_IP = env.float("ATTENDEE_RATE_PER_IP", default=50.0)
ATTENDEE_BURST_PER_IP = env.int("ATTENDEE_BURST_PER_IP", default=500)
# How long a webinar's admission keys stay in Redis after its end (the summary is in SQL).
ATTENDEE_REDIS_RETENTION_HOURS = env.int("ATTENDEE_REDIS_RETENTION_HOURS", default=48)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# --- Attendees (events): registration, invitee import, join-link emails ------------------
# Personal join links are <ATTENDEE_JOIN_BASE_URL>/j/<token>/ (the join path may live on
# its own host behind the load balancer).
ATTENDEE_JOIN_BASE_URL = env("ATTENDEE_JOIN_BASE_URL", default=SITE_URL).rstrip("/")
# Join-link emails: one global Redis token bucket for all workers, sent in batches.
ATTENDEE_EMAILS_PER_MINUTE = env.int("ATTENDEE_EMAILS_PER_MINUTE", default=600)
ATTENDEE_EMAIL_BATCH = env.int("ATTENDEE_EMAIL_BATCH", default=100)
# Registering again or "resend my link" mails an address at most once per interval.
ATTENDEE_RESEND_INTERVAL_S = env.int("ATTENDEE_RESEND_INTERVAL_S", default=300)
# Public registration and resend pages: POSTs per client address per minute.
ATTENDEE_POSTS_PER_IP_PER_MINUTE = env.int("ATTENDEE_POSTS_PER_IP_PER_MINUTE", default=20)
# Invitee CSV import: files up to SYNC_MAX_BYTES are imported in the request, larger ones
# by a worker; MAX_ROWS and MAX_BYTES bound a file; the page shows SHOWN_ERRORS bad rows.
ATTENDEE_IMPORT_SYNC_MAX_BYTES = env.int("ATTENDEE_IMPORT_SYNC_MAX_BYTES", default=1_000_000)
ATTENDEE_IMPORT_MAX_ROWS = env.int("ATTENDEE_IMPORT_MAX_ROWS", default=1_000_000)
ATTENDEE_IMPORT_MAX_BYTES = env.int("ATTENDEE_IMPORT_MAX_BYTES", default=200_000_000)
ATTENDEE_IMPORT_SHOWN_ERRORS = env.int("ATTENDEE_IMPORT_SHOWN_ERRORS", default=50)
ATTENDEE_REGISTRANTS_PER_PAGE = env.int("ATTENDEE_REGISTRANTS_PER_PAGE", default=50)

# --- Security (HTTPS) ------------------------------------------------------------------
# `manage.py check --deploy` gives no warning with the production variables of the README
# ("Production settings"); tests/test_deploy_check.py runs it.
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto, redirect http to https, and
# take the client address from its X-Forwarded-For (webinars/lockout.py).
BEHIND_TLS_PROXY = env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
# HSTS: one year in production. includeSubDomains: the booking host's subdomains are ours
# and https-only too. Preload is opt-in (DJANGO_HSTS_PRELOAD): it is a commitment for the
# whole registrable domain that takes months to undo, so only the domain's owner can make
# it; until then its deploy-check reminder (security.W021) is silenced on purpose.
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# --- Login throttling (django-axes) -----------------------------------------------------
# The site login, the admin login and API basic auth all authenticate through axes'
# backend: after LOGIN_FAILURE_LIMIT failures for one username, or from one client
# address, even the right password is refused (429) until LOGIN_COOLOFF_MINUTES have passed
# since the last failure. Failures are counted in the database, so every worker agrees.
# The glue (username key, client address, lockout page, API answer) is webinars/lockout.py.
INSTALLED_APPS += ["axes"]
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes requires
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "webinars.lockout.MalformedCredentialsBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success does not wipe the count: it would also wipe the address's failures, letting
# one address guess other accounts between logins to its own. Failures expire instead.
AXES_RESET_ON_SUCCESS = False
# Attempts while locked out do not extend the lock, so "try again in N minutes" holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "webinars.lockout.login_username"
AXES_CLIENT_IP_CALLABLE = "webinars.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "webinars.lockout.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
# Successful logins are not logged (the table would only grow); failures are kept.
AXES_DISABLE_ACCESS_LOG = True

# Billing: Stripe. Unset STRIPE_SECRET_KEY locally and `make run` starts the emulator.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
STRIPE_BANK_TRANSFER_TYPE = env("STRIPE_BANK_TRANSFER_TYPE", default="us_bank_transfer")
FUNDS_DEADLINE_DAYS = env.int("FUNDS_DEADLINE_DAYS", default=5)
# Cancellation policy: refund percentage by days before the start (largest threshold first).
CANCELLATION_POLICY = env.json(
    "CANCELLATION_POLICY",
    default=[{"min_days": 30, "percent": 100}, {"min_days": 7, "percent": 50}],
)

# Billing: the seller on our invoices, and VAT.
SELLER = {
    "legal_name": env("SELLER_LEGAL_NAME", default="Mega Webinars Ltd"),
    "address_line1": env("SELLER_ADDRESS_LINE1", default="1 Grand Canal Square"),
    "address_line2": env("SELLER_ADDRESS_LINE2", default=""),
    "city": env("SELLER_CITY", default="Dublin"),
    "postal_code": env("SELLER_POSTAL_CODE", default="D02 P820"),
    "country": env("SELLER_COUNTRY", default="IE"),
    "vat_id": env("SELLER_VAT_ID", default="IE6388047V"),
    "email": env("SELLER_EMAIL", default="billing@megawebinar.example"),
}
# Standard VAT rates in basis points by EU member state (2300 = 23 %); override as JSON.
VAT_RATES = env.json(
    "VAT_RATES",
    default={
        "AT": 2000,
        "BE": 2100,
        "BG": 2000,
        "HR": 2500,
        "CY": 1900,
        "CZ": 2100,
        "DK": 2500,
        "EE": 2400,
        "FI": 2550,
        "FR": 2000,
        "DE": 1900,
        "GR": 2400,
        "HU": 2700,
        "IE": 2300,
        "IT": 2200,
        "LV": 2100,
        "LT": 2100,
        "LU": 1700,
        "MT": 1800,
        "NL": 2100,
        "PL": 2300,
        "PT": 2300,
        "RO": 2100,
        "SK": 2300,
        "SI": 2200,
        "ES": 2100,
        "SE": 2500,
    },
)
INVOICE_PAYMENT_TERMS_DAYS = env.int("INVOICE_PAYMENT_TERMS_DAYS", default=0)
FINANCE_EMAIL = env("FINANCE_EMAIL", default="finance@megawebinar.example")
EVENT_SERVICES_EMAIL = env("EVENT_SERVICES_EMAIL", default="events@megawebinar.example")
# How long the accept/decline links in staff invitation emails stay valid.
STAFF_INVITATION_LINK_DAYS = env.int("STAFF_INVITATION_LINK_DAYS", default=120)
# Accounting export accounts (chart of accounts of our bookkeeping; SKR03-like defaults).
ACCOUNTING = env.json(
    "ACCOUNTING",
    default={
        "receivable": "1400",
        "revenue": "8400",
        "revenue_reverse_charge": "8336",
        "revenue_export": "8338",
        "vat_payable": "1776",
        "bank": "1200",
        "datev_consultant_number": "1001",
        "datev_client_number": "1",
        "xero_account_code": "200",
    },
)
