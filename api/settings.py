"""Typed settings from the environment (prefix ``TALENTMATCH_``) or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_VAR = Path("var")


class Settings(BaseSettings):
    """Runtime settings. Every field can be set as ``TALENTMATCH_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="TALENTMATCH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_VAR / 'talentmatch.db'}",
        description="sqlite:///path (default) or postgresql://user@host:port/db",
    )
    index_dir: Path = Field(default=DEFAULT_VAR / "index", description="index folder")
    encoder: str = Field(default="use-multilingual", description="encoder name or ensemble")
    encoder_threads: int = Field(default=2, ge=1, description="BLAS threads for the encoder")
    city: str = Field(default="平顶山", description="the programme city")
    taxonomy_dir: Path | None = Field(default=None, description="folder of taxonomy YAML files")
    ranking_weights: dict[str, float] | None = Field(
        default=None,
        description="fused scorer weights as JSON, e.g. {\"dense\": 0.3, …}; default: "
        "matching.scorer.DEFAULT_WEIGHTS (see docs/ranking.md)",
    )
    import_max_rows: int = Field(
        default=200_000, ge=1,
        description="data rows per import file; larger files are refused (split them)")
    import_max_xlsx_mb: int = Field(
        default=200, ge=1,
        description="declared uncompressed size of an XLSX file's parts, in MiB (zip bombs)")
    secret_key: str | None = Field(
        default=None,
        description="session signing key (≥ 32 characters); unset: a random key generated "
        "at first start and kept in <data_dir>/secret_key (mode 0600). Required in production")
    environment: str = Field(default="development", description="development or production")
    data_dir: Path | None = Field(
        default=None, description="folder for the generated session key (default: the index "
        "folder's parent, i.e. var/)")
    token_days: int = Field(default=90, ge=1, le=3650,
                            description="lifetime of a new API token in days")
    login_max_failures: int = Field(
        default=5, ge=1, description="failed logins per account within login_window_s before 429")
    login_max_failures_per_ip: int = Field(
        default=20, ge=1, description="failed logins per client address within login_window_s")
    login_window_s: float = Field(default=300.0, gt=0,
                                  description="throttling window of failed logins (seconds)")
    login_concurrency: int = Field(default=2, ge=1,
                                   description="password hashes computed at the same time")

    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: sessions' revocations, login throttling and caches "
        "shared by every API worker, and the job queue run by `talentmatch worker`; unset: "
        "all in process (one `serve` process, jobs in its threads)")
    redis_prefix: str = Field(
        default="tm:", min_length=1, max_length=64,
        description="prefix of every Redis key (and of the job queue's name) of this deployment")
    job_heartbeat_s: float = Field(
        default=10.0, gt=0, le=600,
        description="a queued job's process refreshes its heartbeat this often × 1/3; a running "
        "job without one for this long is marked failed (its worker died)")
    job_timeout_s: int = Field(default=6 * 3600, ge=60,
                               description="a queued job running longer is stopped (failed)")

    @property
    def production(self) -> bool:
        """Whether this is a production deployment (secure cookies, a configured key)."""
        return self.environment.strip().lower() in {"production", "prod"}

    @property
    def data_folder(self) -> Path:
        """The data folder (``data_dir``, or the index folder's parent)."""
        return Path(self.data_dir) if self.data_dir is not None else Path(self.index_dir).parent


def get_settings() -> Settings:
    """Settings read now from the environment."""
    return Settings()
