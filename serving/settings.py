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
