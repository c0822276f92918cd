"""Model bundles by version, so a past prediction can be re-run with the model that made it.

The registry lists the current bundle and every folder in ``TRIAGE_MODEL_REGISTRY_PATHS``; it reads
only each ``bundle.json`` up front and loads a bundle the first time its version is asked for.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from pathlib import Path

from serving.model import TriageModel
from workflow.errors import ModelError

__all__ = ["ModelRegistry"]

logger = logging.getLogger(__name__)


class ModelRegistry:
    """Bundle folders by model version, with the loaded bundles cached."""

    def __init__(self, current: TriageModel | None, folders: Iterable[Path] = ()) -> None:
        self._folders: dict[str, Path] = {}
        self._loaded: dict[str, TriageModel] = {}
        self._lock = threading.Lock()
        for folder in folders:
            version = _bundle_version(Path(folder))
            if version is not None:
                self._folders.setdefault(version, Path(folder))
        if current is not None:
            self._folders[current.version] = current.path
            self._loaded[current.version] = current

    @property
    def versions(self) -> list[str]:
        """Every model version the registry can load."""
        return sorted(self._folders)

    def get(self, version: str) -> TriageModel | None:
        """Return the bundle of ``version``, loading it on first use; None when no folder has it."""
        with self._lock:
            if version in self._loaded:
                return self._loaded[version]
            folder = self._folders.get(version)
            if folder is None:
                return None
            model = TriageModel.load(folder)
            if model.version != version:
                raise ModelError(f"the bundle at {folder} changed from version {version} to {model.version}")
            model.prepare_explainers()
            self._loaded[version] = model
            return model


def _bundle_version(folder: Path) -> str | None:
    try:
        return str(json.loads((folder / "bundle.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError) as error:
        logger.warning("skipped model registry folder %s: %s", folder, error)
        return None
