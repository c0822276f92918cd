"""Turn exceptions into model-ready feature rows, the same way in training and in serving.

The pipeline has two steps. :func:`exception_features` reads one exception in its JSON form (the
shape the store and the API return) and produces a flat dict of raw feature values.
:class:`FeatureSpec` then encodes many such dicts into a float matrix: numbers stay numbers, and each
categorical value becomes the index of its level in the levels learned at training time (an unseen
level becomes missing). The spec travels in the model bundle, so a model never depends on pandas
category dtypes surviving JSON.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from features.codesets import carc_category

logger = logging.getLogger(__name__)

__all__ = [
    "CATEGORICAL_FEATURES",
    "FEATURE_DESCRIPTIONS",
    "NUMERIC_FEATURES",
    "FeatureSpec",
    "exception_features",
]

GROUP_CODES = ("CO", "PR", "OA", "PI", "CR")

CATEGORICAL_FEATURES: tuple[str, ...] = (
    "kind",
    "finding_code",
    "payer_id",
    "claim_status",
    "carc_1",
    "carc_2",
    "group_1",
    "carc_category_1",
    "rarc_1",
    "procedure_1",
    "diagnosis_chapter",
)

NUMERIC_FEATURES: tuple[str, ...] = (
    "billed_amount",
    "paid_amount",
    "amount_at_risk",
    "paid_ratio",
    "days_since_service",
    "carc_count",
    "rarc_count",
    "procedure_count",
    "diagnosis_count",
    *(f"adjusted_{group.lower()}" for group in GROUP_CODES),
)

FEATURE_DESCRIPTIONS: dict[str, str] = {
    "kind": "how the exception was detected (validation, denial, zero_paid, unmatched_payment)",
    "finding_code": "the rule or match finding that raised the exception",
    "payer_id": "the payer's identifier",
    "claim_status": "the 835 claim status code (CLP02) of the payment, if any",
    "carc_1": "the adjustment reason code (CARC) with the largest amount",
    "carc_2": "the adjustment reason code with the second largest amount",
    "group_1": "the adjustment group code (CO, PR, OA, PI) of the largest adjustment",
    "carc_category_1": "the exception category our CARC map gives the largest adjustment",
    "rarc_1": "the first remark code (RARC)",
    "procedure_1": "the first procedure code (CPT or HCPCS)",
    "diagnosis_chapter": "the first letter of the first ICD-10-CM diagnosis code",
    "billed_amount": "the amount billed on the claim, in dollars",
    "paid_amount": "the amount the payer paid, in dollars",
    "amount_at_risk": "the money at stake in this exception, in dollars",
    "paid_ratio": "paid amount over billed amount",
    "days_since_service": "days from the first date of service to the day the exception was detected",
    "carc_count": "how many distinct CARCs the payment carries",
    "rarc_count": "how many distinct RARCs the payment carries",
    "procedure_count": "how many procedure codes the claim or payment carries",
    "diagnosis_count": "how many diagnosis codes the claim carries",
    **{
        f"adjusted_{group.lower()}": f"sum of {group} group adjustments, in dollars"
        for group in GROUP_CODES
    },
}


def _to_float(value: Any) -> float:
    if value is None or value == "":
        return float("nan")
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return float("nan")


def _to_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _adjustments_by_size(payload: Mapping[str, Any]) -> list[tuple[str, str, float]]:
    """Return (group, reason, amount) of every adjustment, the largest absolute amount first."""
    evidence = payload.get("evidence") or {}
    adjustments = evidence.get("adjustments") or []
    triplets = [
        (str(adj.get("group", "")), str(adj.get("reason", "")), _to_float(adj.get("amount")))
        for adj in adjustments
        if isinstance(adj, Mapping)
    ]
    if not triplets:
        groups = payload.get("group_codes") or []
        reasons = payload.get("carc_codes") or []
        triplets = [(str(g), str(r), float("nan")) for g, r in zip(groups, reasons, strict=False)]
    return sorted(triplets, key=lambda t: -abs(t[2]) if not np.isnan(t[2]) else 0.0)


def _first(values: Sequence[Any] | None) -> str | None:
    return str(values[0]) if values else None


def exception_features(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Build the raw feature values of one exception from its JSON form.

    Only fields known when the exception was detected are read, so a feature row never leaks the
    label or anything that happened later.
    """
    adjustments = _adjustments_by_size(payload)
    reasons = list(dict.fromkeys(reason for _, reason, _ in adjustments))
    rarcs = list(payload.get("rarc_codes") or [])
    procedures = list(payload.get("procedure_codes") or [])
    diagnoses = list(payload.get("diagnosis_codes") or [])

    billed = _to_float(payload.get("billed_amount"))
    paid = _to_float(payload.get("paid_amount"))
    service_date = _to_date(payload.get("service_date"))
    detected_on = _to_date(payload.get("detected_on"))
    days_since_service = (
        float((detected_on - service_date).days) if service_date and detected_on else float("nan")
    )

    first_carc = reasons[0] if reasons else None
    carc_info = carc_category(first_carc) if first_carc else None

    row: dict[str, Any] = {
        "kind": payload.get("kind"),
        "finding_code": payload.get("code"),
        "payer_id": payload.get("payer_id"),
        "claim_status": payload.get("claim_status"),
        "carc_1": first_carc,
        "carc_2": reasons[1] if len(reasons) > 1 else None,
        "group_1": adjustments[0][0] if adjustments else None,
        "carc_category_1": carc_info.category if carc_info else None,
        "rarc_1": _first(rarcs),
        "procedure_1": _first(procedures),
        "diagnosis_chapter": diagnoses[0][:1].upper() if diagnoses and diagnoses[0] else None,
        "billed_amount": billed,
        "paid_amount": paid,
        "amount_at_risk": _to_float(payload.get("amount_at_risk")),
        "paid_ratio": paid / billed if billed and not np.isnan(billed) and not np.isnan(paid) else float("nan"),
        "days_since_service": days_since_service,
        "carc_count": float(len(reasons)),
        "rarc_count": float(len(set(rarcs))),
        "procedure_count": float(len(procedures)),
        "diagnosis_count": float(len(diagnoses)),
    }
    for group in GROUP_CODES:
        total = sum(amount for g, _, amount in adjustments if g == group and not np.isnan(amount))
        row[f"adjusted_{group.lower()}"] = float(total)
    return row


@dataclass
class FeatureSpec:
    """The columns a model expects, with the category levels learned on its training data.

    ``levels`` maps each categorical feature to its known values; a value seen fewer than
    ``min_count`` times in training is folded into the missing value, so rare codes do not get
    a level of their own that the model could overfit.
    """

    numeric: tuple[str, ...] = NUMERIC_FEATURES
    categorical: tuple[str, ...] = CATEGORICAL_FEATURES
    levels: dict[str, list[str]] = field(default_factory=dict)
    min_count: int = 3

    @property
    def columns(self) -> list[str]:
        """Every feature name in the column order of the encoded matrix."""
        return [*self.categorical, *self.numeric]

    @property
    def categorical_indices(self) -> list[int]:
        """Positions of the categorical columns in the encoded matrix."""
        return list(range(len(self.categorical)))

    def fit(self, rows: Iterable[Mapping[str, Any]]) -> FeatureSpec:
        """Learn the category levels from training rows."""
        counters: dict[str, Counter[str]] = {name: Counter() for name in self.categorical}
        for row in rows:
            for name in self.categorical:
                value = row.get(name)
                if value is not None and value != "":
                    counters[name][str(value)] += 1
        self.levels = {
            name: sorted(value for value, count in counter.items() if count >= self.min_count)
            for name, counter in counters.items()
        }
        return self

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode raw rows into a float matrix: level index for categories, NaN when missing."""
        lookup = {name: {level: i for i, level in enumerate(levels)} for name, levels in self.levels.items()}
        matrix = np.full((len(rows), len(self.columns)), np.nan, dtype=np.float64)
        for i, row in enumerate(rows):
            for j, name in enumerate(self.categorical):
                value = row.get(name)
                if value is not None:
                    index = lookup.get(name, {}).get(str(value))
                    if index is not None:
                        matrix[i, j] = float(index)
            offset = len(self.categorical)
            for j, name in enumerate(self.numeric):
                matrix[i, offset + j] = _to_float(row.get(name))
        return matrix

    def to_dict(self) -> dict[str, Any]:
        """Describe the spec as JSON: names, types, meanings and category levels."""
        return {
            "min_count": self.min_count,
            "features": [
                {
                    "name": name,
                    "type": "categorical" if name in self.categorical else "numeric",
                    "description": FEATURE_DESCRIPTIONS.get(name, ""),
                    **({"levels": self.levels.get(name, [])} if name in self.categorical else {}),
                }
                for name in self.columns
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSpec:
        """Rebuild a spec from :meth:`to_dict` output."""
        features = data["features"]
        categorical = tuple(f["name"] for f in features if f["type"] == "categorical")
        numeric = tuple(f["name"] for f in features if f["type"] == "numeric")
        levels = {f["name"]: list(f.get("levels", [])) for f in features if f["type"] == "categorical"}
        return cls(numeric=numeric, categorical=categorical, levels=levels, min_count=int(data.get("min_count", 3)))
