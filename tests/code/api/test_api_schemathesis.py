"""Property-based run of the OpenAPI schema: no generated request may cause a server error (5xx).

Requests carry an admin key, so they reach the handlers instead of stopping at 401. The
operations are driven with hypothesis directly, because schemathesis' pytest plugin does not
load under pytest 9.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed: pip install schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

MODEL_DIR = Path(__file__).resolve().parents[3] / "models" / "default"
EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fuzz_store_url(request: pytest.FixtureRequest, tmp_path_factory):
    """Yield a database URL for the module: a SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'triage.db'}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    schema = f"fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(admin_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module")
def app_and_key(fuzz_store_url):
    from serving.api import create_app
    from serving.model import TriageModel
    from serving.settings import Settings
    from workflow.store.governance import create_api_key

    if not (MODEL_DIR / "bundle.json").is_file():
        pytest.skip(f"no model bundle at {MODEL_DIR}")
    url = fuzz_store_url
    app = create_app(store_url=url, model=TriageModel.load(MODEL_DIR), settings=Settings(api_key_cache_seconds=60))
    key = create_api_key(app.state.store, name="fuzz", role="admin")
    yield app, key
    app.state.jobs.shutdown()
    app.state.store.close()


def _operation_labels() -> list[str]:
    from serving.api import create_app

    app = create_app(store_url="sqlite://", load_model=False)
    return [result.ok().label for result in schemathesis.openapi.from_asgi("/openapi.json", app).get_all_operations()]


@pytest.mark.parametrize("label", _operation_labels())
def test_operation_has_no_server_errors(app_and_key, label: str) -> None:
    app, key = app_and_key
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = next(result.ok() for result in schema.get_all_operations() if result.ok().label == label)

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call(headers={"X-API-Key": key})
        case.validate_response(response, checks=[not_a_server_error])

    check()
