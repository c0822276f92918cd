"""Document uploads, read by a background ingestion job, and the jobs' progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Path, Request, UploadFile

from serving.api.requests import NO_NUL
from serving.api.deps import ModelDep, SettingsDep, StoreDep
from serving.api.jobs import UploadedFile
from serving.api.routes.triage import AUTH_RESPONSES
from serving.api.schemas import Job, Problem
from serving.api.security import WorkflowOrAdmin
from workflow.store.governance import get_job

router = APIRouter(prefix="/v1", tags=["documents"])


@router.post(
    "/documents",
    response_model=Job,
    status_code=202,
    responses={
        **AUTH_RESPONSES,
        413: {"model": Problem, "description": "The upload is larger than TRIAGE_MAX_UPLOAD_BYTES."},
        422: {"model": Problem, "description": "No file, too many files, or an empty file."},
    },
)
def upload_documents(
    request: Request,
    caller: WorkflowOrAdmin,
    store: StoreDep,
    settings: SettingsDep,
    _model: ModelDep,
    files: Annotated[list[UploadFile], File(description="X12, PDF or CSV files, as multipart form field `files`.")],
) -> Job:
    """Start a background job that reads the files, detects and triages exceptions, and stores them.

    Poll GET /v1/jobs/{job_id} for progress and each file's result.
    """
    if len(files) > settings.max_upload_files:
        raise HTTPException(422, detail=f"Too many files: send at most {settings.max_upload_files} per upload.")
    uploads = []
    for position, upload in enumerate(files):
        content = upload.file.read()
        if not content:
            raise HTTPException(422, detail=f"File number {position + 1} is empty.")
        uploads.append(UploadedFile(name=upload.filename or f"upload-{position + 1}", content=content))
    job_id = request.app.state.jobs.submit(uploads, created_by=caller.name)
    return Job.model_validate(get_job(store, job_id))


@router.get(
    "/jobs/{job_id}",
    response_model=Job,
    responses={**AUTH_RESPONSES, 404: {"model": Problem, "description": "No job has this id."}},
)
def read_job(_caller: WorkflowOrAdmin, store: StoreDep, job_id: Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL)]) -> Job:
    """Return a job's status, how many files it has read, and each file's result when it is done."""
    job = get_job(store, job_id)
    if job is None:
        raise HTTPException(404, detail="No job has the requested id.")
    return Job.model_validate(job)
