"""API keys and roles: 401 without a valid key, 403 for a role that may not call the endpoint."""

from __future__ import annotations

import pytest

from workflow.store.governance import count_active_api_keys, create_api_key, find_api_key, revoke_api_key
from workflow.errors import StoreError

PROBLEM = "application/problem+json"

# (method, path, roles allowed); a path parameter names nothing that exists, so an allowed role
# gets past the role check and then a 404, 422 or 204, but never 401 or 403.
ENDPOINTS = [
    ("GET", "/v1/exceptions", {"workflow", "reviewer", "admin"}),
    ("GET", "/v1/exceptions/EXC-X", {"workflow", "reviewer", "admin"}),
    ("POST", "/v1/exceptions/EXC-X/decision", {"reviewer", "admin"}),
    ("POST", "/v1/triage", {"workflow", "admin"}),
    ("GET", "/v1/predictions/PRED-X", {"workflow", "reviewer", "admin"}),
    ("POST", "/v1/predictions/PRED-X/rerun", {"admin"}),
    ("GET", "/v1/queues", {"workflow", "reviewer", "admin"}),
    ("POST", "/v1/queues/review/claim", {"reviewer", "admin"}),
    ("GET", "/v1/kpis", {"workflow", "reviewer", "admin"}),
    ("GET", "/v1/jobs/job_x", {"workflow", "admin"}),
    ("POST", "/v1/documents", {"workflow", "admin"}),
]


@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS, ids=lambda v: v if isinstance(v, str) else None)
def test_missing_key_is_unauthorized(api, method, path, allowed) -> None:
    response = api.client.request(method, path)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert "X-API-Key" in response.headers["www-authenticate"]


@pytest.mark.parametrize(("method", "path", "allowed"), ENDPOINTS, ids=lambda v: v if isinstance(v, str) else None)
def test_role_matrix_is_enforced(api, method, path, allowed) -> None:
    for role in ("workflow", "reviewer", "admin"):
        response = api.client.request(method, path, headers=api.headers[role])

        if role in allowed:
            assert response.status_code not in (401, 403), role
        else:
            assert response.status_code == 403, role
            assert response.headers["content-type"] == PROBLEM


def test_wrong_key_is_unauthorized(api) -> None:
    response = api.client.get("/v1/exceptions", headers={"X-API-Key": "trk_000000000000_not-a-real-secret"})

    assert response.status_code == 401


def test_malformed_key_is_unauthorized(api) -> None:
    assert api.client.get("/v1/exceptions", headers={"X-API-Key": "hello"}).status_code == 401


def test_bearer_key_is_accepted(api) -> None:
    key = api.headers["reviewer"]["X-API-Key"]

    response = api.client.get("/v1/exceptions", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 200


def test_revoked_key_is_unauthorized(api) -> None:
    revoke_api_key(api.store, "reviewer-key")

    response = api.get("/v1/exceptions", role="reviewer")

    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"])
def test_open_endpoints_need_no_key(api, path) -> None:
    assert api.client.get(path).status_code == 200


def test_readyz_names_model(api, bundle) -> None:
    body = api.client.get("/readyz").json()

    assert body["status"] == "ready"
    assert body["model"]["version"] == bundle.version


def test_readyz_without_model_is_unavailable(store_url) -> None:
    from fastapi.testclient import TestClient

    from serving.api import create_app

    with TestClient(create_app(store_url=store_url, load_model=False)) as client:
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM


def test_metrics_use_prometheus_format(api) -> None:
    api.get("/v1/exceptions")

    response = api.client.get("/metrics")

    assert response.headers["content-type"].startswith("text/plain")
    assert 'triage_http_requests_total{method="GET",route="/v1/exceptions",status="200"} 1.0' in response.text


def test_metrics_name_documentation_routes_and_hide_unknown_paths(api) -> None:
    api.client.get("/openapi.json")
    api.client.get("/docs")
    api.client.get("/no-such-page/MEMBER123")

    text = api.client.get("/metrics").text

    assert 'route="/openapi.json",status="200"' in text
    assert 'route="/docs",status="200"' in text
    assert 'route="unmatched",status="404"' in text
    assert "MEMBER123" not in text


# Keys in the store


def test_key_is_stored_hashed(store) -> None:
    key = create_api_key(store, name="ops", role="admin")

    with store.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT key_prefix, key_hash FROM api_keys").one()

    assert key.split("_", 2)[2] not in stored.key_hash
    assert find_api_key(store, key).role == "admin"


def test_key_with_wrong_secret_is_rejected(store) -> None:
    key = create_api_key(store, name="ops", role="admin")

    assert find_api_key(store, key[:-2] + "xx") is None


def test_duplicate_key_name_is_rejected(store) -> None:
    create_api_key(store, name="ops", role="admin")

    with pytest.raises(StoreError, match="already exists"):
        create_api_key(store, name="ops", role="reviewer")


def test_unknown_role_is_rejected(store) -> None:
    with pytest.raises(ValueError, match="unknown role"):
        create_api_key(store, name="ops", role="root")


def test_revoked_name_can_be_reused(store) -> None:
    create_api_key(store, name="ops", role="admin")
    revoke_api_key(store, "ops")

    create_api_key(store, name="ops", role="reviewer")

    assert count_active_api_keys(store) == 1


def test_apikeys_command_creates_and_revokes(tmp_path) -> None:
    from typer.testing import CliRunner

    from serving.cli import app

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    runner = CliRunner()
    created = runner.invoke(app, ["apikeys", "create", "--role", "reviewer", "--name", "ana", "--db", url])
    revoked = runner.invoke(app, ["apikeys", "revoke", "ana", "--db", url])
    again = runner.invoke(app, ["apikeys", "revoke", "ana", "--db", url])

    assert created.exit_code == 0
    assert created.stdout.strip().splitlines()[-1].startswith("trk_")
    assert revoked.exit_code == 0
    assert again.exit_code == 1


@pytest.mark.parametrize("command", [
    ["apikeys", "list"],
    ["serve", "--port", "8999"],
    ["train", "--from-store", "STORE", "--output", "OUT", "--no-mlflow"],
])
def test_store_error_exits_cleanly(tmp_path, monkeypatch, command) -> None:
    from typer.testing import CliRunner

    from serving.cli import app
    from workflow.store.database import SQLITE_SYNCHRONOUS_VARIABLE

    url = f"sqlite:///{tmp_path / 'keys.db'}"
    monkeypatch.setenv(SQLITE_SYNCHRONOUS_VARIABLE, "sometimes")
    monkeypatch.setenv("TRIAGE_STORE_URL", url)
    placeholders = {"STORE": url, "OUT": str(tmp_path / "bundle")}
    arguments = [placeholders.get(part, part) for part in command]

    result = CliRunner().invoke(app, arguments)

    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "TRIAGE_SQLITE_SYNCHRONOUS='sometimes'" in " ".join(result.output.split())
