"""Settings of the service, read from ``TRIAGE_*`` environment variables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEFAULT_MODEL_PATH", "Settings"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL_PATH = PROJECT_ROOT / "models" / "default"


class Settings(BaseSettings):
    """Operator settings; each field can be set as an environment variable ``TRIAGE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    store_url: str = Field(default="sqlite:///triage.db", description="SQLAlchemy URL of the store")
    model_path: Path = Field(default=DEFAULT_MODEL_PATH, description="folder of the model bundle")
    qa_sample_rate: float = Field(default=0.05, ge=0.0, le=1.0,
                                  description="share of automatic routes sent to review for quality assurance")
    write_off_review_above: Decimal = Field(default=Decimal("500"), ge=0,
                                            description="write-offs above this amount in dollars go to a person")
    host: str = Field(default="127.0.0.1", description="address the API listens on")
    port: int = Field(default=8000, ge=1, le=65535, description="port the API listens on")
    max_json_bytes: int = Field(default=5_000_000, ge=1_000,
                                description="largest JSON request body the API accepts, in bytes")
    max_upload_bytes: int = Field(default=50_000_000, ge=1_000,
                                  description="largest multipart upload to POST /v1/documents, in bytes, all files together")
    max_upload_files: int = Field(default=100, ge=1, description="most files one upload may carry")
    queue_sla_hours: float = Field(default=72.0, gt=0,
                                   description="hours an exception may stay open before it counts as an SLA breach")
    model_registry_paths: list[Path] = Field(
        default_factory=list,
        description="extra bundle folders, as a JSON list, that re-runs of past predictions may load by version",
    )
    api_key_cache_seconds: float = Field(default=5.0, ge=0,
                                         description="seconds a checked API key is trusted before it is looked up again")
    job_workers: int = Field(default=1, ge=1, le=16, description="ingestion jobs that run at the same time")
