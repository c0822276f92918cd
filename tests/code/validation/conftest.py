"""Keep every validation test away from an operator's overlay folder and rule file."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def empty_overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    overlay = tmp_path / "codesets"
    monkeypatch.setenv("TRIAGE_CODESETS_DIR", str(overlay))
    monkeypatch.delenv("TRIAGE_RULES_PATH", raising=False)
    return overlay
