"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from serving.model import TriageModel
from serving.settings import Settings
from workflow.store import Store

__all__ = ["ModelDep", "SettingsDep", "StoreDep", "get_model", "get_request_id", "get_settings", "get_store"]


def get_store(request: Request) -> Store:
    """Return the store that create_app attached to the application."""
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_model(request: Request) -> TriageModel:
    """Return the loaded model bundle; 503 when the API started without one."""
    model = request.app.state.model
    if model is None:
        raise HTTPException(503, detail="No model bundle is loaded. Build one with `triage train` and restart the API.")
    return model


def get_request_id(request: Request) -> str:
    """Return the id RequestMiddleware gave this request."""
    return request.scope.get("state", {}).get("request_id") or "unknown"


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ModelDep = Annotated[TriageModel, Depends(get_model)]
RequestIdDep = Annotated[str, Depends(get_request_id)]
