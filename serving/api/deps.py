"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from workflow.store import Store

__all__ = ["StoreDep", "get_store"]


def get_store(request: Request) -> Store:
    """Return the store that create_app attached to the application."""
    return request.app.state.store


StoreDep = Annotated[Store, Depends(get_store)]
