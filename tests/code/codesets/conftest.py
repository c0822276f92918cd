"""Keep every code-set test away from an operator's overlay folder; find the reference code sets."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def empty_overlay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    overlay = tmp_path / "codesets"
    monkeypatch.setenv("TRIAGE_CODESETS_DIR", str(overlay))
    monkeypatch.delenv("TRIAGE_RULES_PATH", raising=False)
    return overlay


PROJECT_ROOT = Path(__file__).resolve().parents[3]
SHARED_CODESETS = PROJECT_ROOT / ".." / "shared" / "data" / "codesets"


@pytest.fixture
def shared_codesets() -> Path:
    """Return the reference code-set folder, or skip when it is absent."""
    if not SHARED_CODESETS.is_dir():
        pytest.skip(f"reference samples not found at {SHARED_CODESETS.resolve()}")
    return SHARED_CODESETS
