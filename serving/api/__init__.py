"""The HTTP API of the triage service; run it with ``uvicorn --factory serving.api:create_app``."""

from serving.api.app import create_app

__all__ = ["create_app"]
