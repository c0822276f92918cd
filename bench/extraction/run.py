"""Measure field-level precision and recall of ``extract_pdf`` on generated invoices, and speed.

Precision counts, of the fields the extractor returned, those equal to the truth; recall counts,
of the fields in the truth, those returned and equal. Line items are scored field by field, row
by row. Speed is pages per second of wall time on this machine, single process; it is reported,
never asserted.

    .venv/bin/python bench/extraction/run.py --count 60 --seed 7
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from features.pdf import extract_pdf
from training.invoices import generate_invoices
from training.invoices.scoring import score_document
from training.invoices.generator import truth_path

logger = logging.getLogger(__name__)


def measure(count: int, seed: int) -> dict:
    """Generate ``count`` invoices, extract them, and return precision, recall and speed per layout."""
    with tempfile.TemporaryDirectory(prefix="bench-extraction-") as folder:
        paths = generate_invoices(Path(folder), count=count, seed=seed)
        returned, correct, expected = Counter(), Counter(), Counter()
        pages = 0
        started = time.perf_counter()
        docs = [(extract_pdf(path), json.loads(truth_path(path).read_text())) for path in paths]
        elapsed = time.perf_counter() - started
    for doc, truth in docs:
        pages += len(doc.pages)
        layout = truth["layout"]
        for score in score_document(doc, truth):
            group = (layout, "line items" if score.field.startswith("line.") else "header")
            expected[group] += 1
            returned[group] += score.found is not None
            correct[group] += score.correct
    rows = {}
    for group in sorted(expected):
        rows[" / ".join(group)] = {
            "precision": correct[group] / returned[group] if returned[group] else 0.0,
            "recall": correct[group] / expected[group],
            "fields": expected[group],
        }
    return {"documents": len(docs), "pages": pages, "seconds": elapsed, "pages_per_second": pages / elapsed,
            "by_layout": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60, help="invoices to generate (duplicates add a few more)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed")
    args = parser.parse_args(argv)
    result = measure(args.count, args.seed)
    sys.stdout.write(f"{result['documents']} documents, {result['pages']} pages in {result['seconds']:.1f} s: "
                     f"{result['pages_per_second']:.1f} pages/s\n")
    sys.stdout.write(f"{'layout / part':<28}{'precision':>10}{'recall':>10}{'fields':>8}\n")
    for name, row in result["by_layout"].items():
        sys.stdout.write(f"{name:<28}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['fields']:>8}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
