"""Fixtures of the API tests: an app on each database with the shipped model, and a key per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.api import create_app
from serving.model import TriageModel
from serving.settings import Settings
from workflow.store import Store
from workflow.store.governance import create_api_key

MODEL_DIR = Path(__file__).resolve().parents[3] / "models" / "default"


@dataclass
class Api:
    """A test client with one key per role; ``headers[role]`` authenticates as that role."""

    client: TestClient
    store: Store
    headers: dict[str, dict[str, str]]

    def get(self, url: str, role: str = "admin", **kwargs):
        return self.client.get(url, headers={**self.headers[role], **kwargs.pop("headers", {})}, **kwargs)

    def post(self, url: str, role: str = "admin", **kwargs):
        return self.client.post(url, headers={**self.headers[role], **kwargs.pop("headers", {})}, **kwargs)


@pytest.fixture(scope="session")
def bundle() -> TriageModel:
    if not (MODEL_DIR / "bundle.json").is_file():
        pytest.skip(f"no model bundle at {MODEL_DIR}: build it with `triage train --output models/default`")
    model = TriageModel.load(MODEL_DIR)
    model.prepare_explainers()
    return model


@pytest.fixture
def api_settings() -> Settings:
    return Settings(qa_sample_rate=0.0, api_key_cache_seconds=0.0)


@pytest.fixture
def api(store_url: str, bundle: TriageModel, api_settings: Settings) -> Iterator[Api]:
    app = create_app(store_url=store_url, model=bundle, settings=api_settings)
    with TestClient(app) as client:
        store = app.state.store
        headers = {
            role: {"X-API-Key": create_api_key(store, name=f"{role}-key", role=role)}
            for role in ("workflow", "reviewer", "admin")
        }
        yield Api(client=client, store=store, headers=headers)
