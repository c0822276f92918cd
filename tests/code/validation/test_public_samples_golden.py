"""Rule findings on the public 837 samples, pinned in a golden file that a person reviewed.

`golden/public_837_findings.json` maps each sample file (relative to the reference folder) to the
count of each rule finding. `golden/REVIEW.md` records what a reviewer concluded about each rule
on these samples. Regenerate the JSON with `TRIAGE_UPDATE_GOLDEN=1` and review the diff before
committing it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from features.x12 import read_x12
from workflow.errors import NotX12Error
from workflow.records import Claim
from workflow.validation import ClaimHistory, load_rule_set

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SAMPLES = (PROJECT_ROOT / ".." / "shared" / "data" / "x12").resolve()
GOLDEN = Path(__file__).parent / "golden" / "public_837_findings.json"
AS_OF = dt.date(2026, 6, 1)

pytestmark = pytest.mark.shared_data


def _sample_files() -> list[Path]:
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and "837" in str(p.relative_to(SAMPLES)))


def _rule_counts(path: Path) -> dict[str, int]:
    rule_set = load_rule_set()
    try:
        claims = [r for r in read_x12(path) if isinstance(r, Claim)]
    except NotX12Error:
        return {"not_x12": 1}
    findings = rule_set.validate(claims, as_of=AS_OF, history=ClaimHistory())
    return dict(sorted(Counter(f.code for f in findings).items()))


def _current_counts() -> dict[str, dict[str, int]]:
    return {str(path.relative_to(SAMPLES)): _rule_counts(path) for path in _sample_files()}


def test_public_837_findings_match_golden_file():
    if not SAMPLES.is_dir():
        pytest.skip(f"reference samples not found at {SAMPLES}")
    current = _current_counts()
    if os.environ.get("TRIAGE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))

    assert sorted(current) == sorted(golden)
    for name, counts in golden.items():
        assert current[name] == counts, f"rule findings changed for {name}"
