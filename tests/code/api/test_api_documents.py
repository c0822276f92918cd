"""Document uploads run as background jobs; GET /v1/jobs/{id} reports progress and per-file results."""

from __future__ import annotations

import time

FAKE_837P = "\n".join([
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *240501*1200*^*00501*000000101*0*T*:~",
    "GS*HC*SENDER*RECEIVER*20240501*1200*101*X*005010X222A1~",
    "ST*837*0001*005010X222A1~",
    "BHT*0019*00*REF1*20240501*1200*CH~",
    "NM1*41*2*TEST SUBMITTER*****46*TS1~",
    "NM1*40*2*TEST RECEIVER*****46*TR1~",
    "HL*1**20*1~",
    "NM1*85*2*TEST CLINIC*****XX*1234567890~",
    "REF*EI*999999999~",
    "HL*2*1*22*0~",
    "SBR*P*18*******CI~",
    "NM1*IL*1*FAKE*PATIENT****MI*FAKEMEM01~",
    "DMG*D8*19800517*F~",
    "NM1*PR*2*FAKE PAYER*****PI*FAKEPAYER1~",
    "CLM*FAKECLM1*120***11:B:1*Y*A*Y*Y~",
    "HI*ABK:E119~",
    "LX*1~",
    "SV1*HC:99213*100*UN*1***1~",
    "DTP*472*D8*20240501~",
    "SE*19*0001~",
    "GE*1*101~",
    "IEA*1*000000101~",
])


def _wait_for(api, job_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/v1/jobs/{job_id}", role="workflow").json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_upload_starts_job(api) -> None:
    response = api.post("/v1/documents", role="workflow", files=[("files", ("claims.837", FAKE_837P.encode()))])
    job = response.json()

    assert response.status_code == 202
    assert job["files_total"] == 1
    assert job["status"] in ("queued", "running", "succeeded")


def test_job_reports_each_file(api) -> None:
    files = [
        ("files", ("claims.837", FAKE_837P.encode())),
        ("files", ("../../notes.txt", b"this is not an X12 file")),
    ]
    job_id = api.post("/v1/documents", role="workflow", files=files).json()["job_id"]

    job = _wait_for(api, job_id)
    by_name = {item["name"]: item for item in job["files"]}

    assert job["status"] == "succeeded"
    assert job["files_done"] == 2
    assert by_name["claims.837"]["status"] == "read"
    assert by_name["notes.txt"]["status"] == "failed"
    assert job["run_id"]
    assert api.store.counts()["claims"] == 1


def test_same_file_again_is_duplicate(api) -> None:
    files = [("files", ("claims.837", FAKE_837P.encode()))]
    _wait_for(api, api.post("/v1/documents", files=files).json()["job_id"])

    job = _wait_for(api, api.post("/v1/documents", files=files).json()["job_id"])

    assert job["files"][0]["status"] == "duplicate"


def test_empty_file_is_problem(api) -> None:
    response = api.post("/v1/documents", files=[("files", ("empty.837", b""))])

    assert response.status_code == 422


def test_upload_without_files_is_problem(api) -> None:
    response = api.post("/v1/documents", data={"other": "x"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "files"


def test_oversized_upload_is_problem(store_url, bundle) -> None:
    from fastapi.testclient import TestClient

    from serving.api import create_app
    from serving.settings import Settings
    from workflow.store.governance import create_api_key

    app = create_app(store_url=store_url, model=bundle, settings=Settings(max_upload_bytes=2_000))
    with TestClient(app) as client:
        key = create_api_key(app.state.store, name="k", role="workflow")
        response = client.post("/v1/documents", headers={"X-API-Key": key},
                               files=[("files", ("big.837", b"x" * 5_000))])

    assert response.status_code == 413


def test_unknown_job_is_problem(api) -> None:
    assert api.get("/v1/jobs/job_missing").status_code == 404
