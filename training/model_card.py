"""Write the figures of a bundle into its model card, between markers, from ``bundle.json``.

The card's prose (intended use, limits) is written by people; the tables between
``<!-- metrics:start -->`` and ``<!-- metrics:end -->`` are rewritten after every training, so the
card can never show figures of an older bundle.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["metrics_section", "update_model_card"]

START = "<!-- metrics:start -->"
END = "<!-- metrics:end -->"
MODEL_NAMES = {"majority": "majority class", "carc_lookup": "CARC lookup", "logistic_regression": "logistic regression"}
COLUMNS = ("macro_f1", "accuracy", "log_loss", "ece", "auto_route_share", "auto_route_precision")


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _row(head: str, model: str, metrics: Mapping[str, Any]) -> str:
    return "| " + " | ".join([head, model, *(_cell(metrics.get(name)) for name in COLUMNS)]) + " |"


def metrics_section(bundle: Mapping[str, Any]) -> str:
    """Render the version, the split sizes, and each head against its baselines and the ceiling."""
    rows = bundle.get("rows", {})
    lines = [
        f"Version `{bundle['version']}`; rows: {rows.get('train', '?')} train, {rows.get('valid', '?')} "
        f"validation, {rows.get('test', '?')} test (the newest); target precision "
        f"{bundle.get('target_precision', '?')}.",
        "",
        "| head | model | macro F1 | accuracy | log loss | ECE | auto share | auto precision |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    baselines = bundle.get("baselines", {})
    ceiling = bundle.get("simulator_ceiling", {})
    for head, head_meta in bundle["heads"].items():
        lines.append(_row(head, "LightGBM", head_meta.get("metrics", {})))
        for name, by_head in baselines.items():
            if head in by_head:
                lines.append(_row(head, MODEL_NAMES.get(name, name), by_head[head].get("metrics", {})))
        if head == "type" and ceiling:
            in_sample = _cell(ceiling.get("root_cause_accuracy"))
            holdout = _cell(ceiling.get("root_cause_accuracy_holdout"))
            lines.append(f"| type | simulator ceiling (in sample / holdout) | - | {in_sample} / {holdout} | - | - | - | - |")
    thresholds = bundle["heads"]["type"].get("thresholds", {})
    never = sorted(label for label, value in thresholds.items() if value > 1.0)
    lines += ["", "Type classes that never route automatically (threshold above 1): "
              + (", ".join(never) if never else "none") + "."]
    return "\n".join(lines)


def update_model_card(bundle_dir: Path) -> bool:
    """Rewrite the metrics section of ``MODEL_CARD.md``; return False when the card has no markers."""
    card = bundle_dir / "MODEL_CARD.md"
    if not card.is_file():
        return False
    text = card.read_text(encoding="utf-8")
    if START not in text or END not in text:
        logger.warning("model card %s has no metrics markers; left as it is", card)
        return False
    bundle = json.loads((bundle_dir / "bundle.json").read_text(encoding="utf-8"))
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    card.write_text(f"{head}{START}\n{metrics_section(bundle)}\n{END}{tail}", encoding="utf-8")
    return True
