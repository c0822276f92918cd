"""Ingestion jobs: uploaded files are saved to a temporary folder and read by ``run_flow`` in a worker thread."""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving.model import TriageModel
from serving.routing import RoutingPolicy
from serving.run import run_flow
from workflow.store import Store
from workflow.store.governance import create_job, document_statuses, finish_job, start_job, update_job_progress

__all__ = ["JobRunner", "UploadedFile"]

logger = logging.getLogger(__name__)

# File names are reduced to these characters before they touch the disk, so an upload can never
# name a path outside the job's folder.
UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content: bytes


class JobRunner:
    """Runs ingestion jobs in a small thread pool; each job reads its files with ``run_flow``."""

    def __init__(self, store: Store, model: TriageModel | None, policy: RoutingPolicy, workers: int) -> None:
        self.store = store
        self.model = model
        self.policy = policy
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, files: list[UploadedFile], *, created_by: str) -> str:
        """Save ``files`` to a new temporary folder, create the job and start it; return the job id."""
        folder = Path(tempfile.mkdtemp(prefix="triage-job-"))
        descriptions = []
        for index, upload in enumerate(files):
            safe_name = UNSAFE_NAME_CHARACTERS.sub("_", Path(upload.name).name).strip("._") or "upload"
            path = folder / f"{index:04d}_{safe_name[:100]}"
            path.write_bytes(upload.content)
            descriptions.append({
                "name": safe_name[:100],
                "path": path.name,
                "size_bytes": len(upload.content),
                "document_id": hashlib.sha256(upload.content).hexdigest(),
            })
        job_id = create_job(self.store, created_by=created_by, files=descriptions)
        self._pool().submit(self._run, job_id, folder, descriptions)
        logger.info("job %s queued with %d files", job_id, len(files))
        return job_id

    def shutdown(self) -> None:
        """Wait for running jobs, then stop the worker threads; a later submit starts new ones."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def _pool(self) -> ThreadPoolExecutor:
        # Created on first use, and again after a shutdown, because an application's lifespan
        # may end and start again around the same app object (test clients do that).
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="triage-job")
            return self._executor

    def _run(self, job_id: str, folder: Path, files: list[dict[str, Any]]) -> None:
        try:
            if self.model is None:
                raise RuntimeError("no model bundle is loaded: start the API with a bundle to ingest documents")
            start_job(self.store, job_id)
            done = 0

            def progress(_text: str) -> None:
                nonlocal done
                done = min(done + 1, len(files))
                update_job_progress(self.store, job_id, done)

            paths = [folder / item["path"] for item in files]
            summary = run_flow(paths, store=self.store, model=self.model, policy=self.policy, progress=progress)
            results = self._file_results(files, summary.run_id)
            finish_job(self.store, job_id, status="succeeded", files=results, run_id=summary.run_id,
                       summary=_public_summary(summary.to_dict()))
            logger.info("job %s succeeded: run %s", job_id, summary.run_id)
        except Exception as error:  # noqa: BLE001 - a job records every failure instead of losing it in a thread
            logger.exception("job %s failed", job_id)
            finish_job(self.store, job_id, status="failed", error=f"{type(error).__name__}: the job failed; see the server log")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _file_results(self, files: list[dict[str, Any]], run_id: str) -> list[dict[str, Any]]:
        stored = document_statuses(self.store, [item["document_id"] for item in files])
        results = []
        for item in files:
            document = stored.get(item["document_id"])
            result = {key: item[key] for key in ("name", "size_bytes", "document_id")}
            if document is None:
                result.update(status="not_stored", kind=None, error=None)
            elif document["run_id"] != run_id:
                result.update(status="duplicate", kind=document["kind"], error=None)
            else:
                result.update(status=document["status"], kind=document["kind"], error=_error_without_path(document["error"]))
            results.append(result)
        return results


def _error_without_path(error: str | None) -> str | None:
    # Reader errors start with the temporary file path, which means nothing to the caller.
    if error and ": " in error and error.startswith("/"):
        return error.split(": ", 1)[1]
    return error


def _public_summary(summary: dict[str, Any]) -> dict[str, Any]:
    public = dict(summary)
    public["documents_failed"] = len(summary.get("documents_failed") or [])
    return public
