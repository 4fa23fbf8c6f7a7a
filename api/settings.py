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
    secret_key: str = Field(default="dev-secret-change-me")
    environment: str = Field(default="development")


def get_settings() -> Settings:
    """Settings read now from the environment."""
    return Settings()
