"""Turn exceptions into model-ready feature rows, the same way in training and in serving.

The pipeline has two steps. :func:`exception_features` reads one exception in its JSON form (the
shape the store and the API return) and produces a flat dict of raw feature values: codes and
their roll-ups, payer and payer kind, amounts and ratios, days to the filing and appeal deadlines,
and history counts from an :class:`~features.history.ExceptionHistory`. :class:`FeatureSpec` then
encodes many such dicts into a float matrix: numbers stay numbers, each categorical value becomes
the index of its level in the levels learned at training time (an unseen level becomes missing),
and high-cardinality codes also get their training frequency. The spec travels in the model
bundle, so a model never depends on pandas category dtypes surviving JSON.

:meth:`FeatureSpec.feature_rows` is the one entry point that training and serving both call: it
lays the exceptions over the spec's history (without copying it) and builds each row, so a history
feature only counts exceptions detected strictly before the one it describes.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from features.codesets import (
    PriorAuthRule,
    payer_kind,
    prior_auth_rules,
    shipped_carc_category,
    timely_filing_limit,
)
from features.history import (
    HISTORY_DESCRIPTIONS,
    HISTORY_FEATURES,
    ExceptionHistory,
    HistoryKey,
    HistoryLayer,
    event_from_payload,
    history_key,
)
from features.payload import adjustments_by_size, first_value, to_date, to_float
from features.rollups import appeal_window_days, icd10_chapter, procedure_group

logger = logging.getLogger(__name__)

__all__ = [
    "CATEGORICAL_FEATURES",
    "FEATURE_DESCRIPTIONS",
    "FREQUENCY_FEATURES",
    "NUMERIC_FEATURES",
    "FeatureEncoder",
    "FeatureSpec",
    "exception_features",
]

GROUP_CODES = ("CO", "PR", "OA", "PI", "CR")

# Adjustments that nearly every paid claim carries: the contractual write-down, sequestration and
# the patient's deductible, coinsurance and copay. They say nothing about a root cause, so the
# code set feature leaves them out.
ROUTINE_ADJUSTMENTS = frozenset({"CO-45", "CO-253", "PR-1", "PR-2", "PR-3"})

# Kinds of exception that come from a payer's determination, which starts the appeal window.
PAYMENT_KINDS = frozenset({"denial", "zero_paid", "underpayment", "partial_denial"})

CATEGORICAL_FEATURES: tuple[str, ...] = (
    "kind",
    "finding_code",
    "payer_id",
    "payer_kind",
    "claim_status",
    "carc_1",
    "carc_2",
    "group_1",
    "group_carc_1",
    "carc_category_1",
    "rarc_1",
    "rarc_2",
    "code_set",
    "procedure_1",
    "procedure_group_1",
    "diagnosis_chapter",
)

NUMERIC_FEATURES: tuple[str, ...] = (
    "billed_amount",
    "paid_amount",
    "amount_at_risk",
    "paid_ratio",
    "risk_ratio",
    "days_since_service",
    "days_to_filing_deadline",
    "days_to_appeal_deadline",
    "procedure_needs_auth",
    "carc_count",
    "rarc_count",
    "adjustment_count",
    "line_count",
    "procedure_count",
    "diagnosis_count",
    "claim_candidates",
    *(f"adjusted_{group.lower()}" for group in GROUP_CODES),
    *HISTORY_FEATURES,
)

# Raw values whose share among the training rows becomes a numeric column ``<name>_frequency``.
# Diagnosis and procedure codes get roll-ups (chapter, group) instead: the simulator draws them from
# short lists, so a frequency would teach the model that any unlisted code is a coding error.
FREQUENCY_FEATURES: tuple[str, ...] = ("code_set", "carc_1")

FEATURE_DESCRIPTIONS: dict[str, str] = {
    "kind": "how the exception was detected (validation, denial, zero_paid, unmatched_payment, ambiguous_match)",
    "finding_code": "the rule or match finding that raised the exception",
    "payer_id": "the payer's identifier",
    "payer_kind": "the payer kind (medicare, medicaid, commercial, ...) from the payer directory or the bundle",
    "claim_status": "the 835 claim status code (CLP02) of the payment, if any",
    "carc_1": "the adjustment reason code (CARC) with the largest amount",
    "carc_2": "the distinct adjustment reason code with the second largest amount",
    "group_1": "the adjustment group code (CO, PR, OA, PI, CR) of the largest adjustment",
    "group_carc_1": "group and reason code of the largest adjustment, e.g. CO-197",
    "carc_category_1": "the exception category our CARC map gives the largest adjustment",
    "rarc_1": "the first remark code (RARC)",
    "rarc_2": "the second remark code",
    "code_set": "every non-routine group-CARC pair and RARC, sorted and joined with |",
    "procedure_1": "the first procedure code (CPT or HCPCS)",
    "procedure_group_1": "the CPT section or HCPCS Level II letter of the first procedure code",
    "diagnosis_chapter": "the ICD-10-CM chapter of the first diagnosis code",
    "billed_amount": "the amount billed on the claim, in dollars",
    "paid_amount": "the amount the payer paid, in dollars",
    "amount_at_risk": "the money at stake in this exception, in dollars",
    "paid_ratio": "paid amount over billed amount",
    "risk_ratio": "amount at risk over billed amount",
    "days_since_service": "days from the first date of service to the day the exception was detected",
    "days_to_filing_deadline": "days left before the payer kind's timely filing limit, negative when past it",
    "days_to_appeal_deadline": "days left in the payer kind's first-level appeal window; missing before a determination",
    "procedure_needs_auth": "1 when a prior authorization rule covers any procedure of the claim for this payer",
    "carc_count": "how many distinct CARCs the payment carries",
    "rarc_count": "how many distinct RARCs the payment carries",
    "adjustment_count": "how many adjustments (CAS triplets) the payment carries",
    "line_count": "how many service lines the payment reports",
    "procedure_count": "how many procedure codes the claim or payment carries",
    "diagnosis_count": "how many diagnosis codes the claim carries",
    "claim_candidates": "how many sent claims share the paid claim id (more than one hints at a resubmission)",
    **{
        f"adjusted_{group.lower()}": f"sum of {group} group adjustments, in dollars"
        for group in GROUP_CODES
    },
    **HISTORY_DESCRIPTIONS,
    **{
        f"{name}_frequency": f"share of training exceptions with the same {name}; 0 when never seen"
        for name in FREQUENCY_FEATURES
    },
}


def _ratio(numerator: float, denominator: float) -> float:
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return float("nan")
    return numerator / denominator


def _code_set(adjustments: Sequence[tuple[str, str, float]], rarcs: Sequence[str]) -> str | None:
    pairs = {f"{group}-{reason}" for group, reason, _ in adjustments} - ROUTINE_ADJUSTMENTS
    codes = sorted(pairs) + sorted(set(rarcs))
    if codes:
        return "|".join(codes)
    return "routine" if adjustments else None


def _evidence_number(evidence: Any, name: str) -> float:
    # The store nests rule evidence under "details"; payment evidence keeps its fields on top.
    if not isinstance(evidence, Mapping):
        return float("nan")
    value = evidence.get(name)
    if value is None and isinstance(evidence.get("details"), Mapping):
        value = evidence["details"].get(name)
    return to_float(value)


_NAN = float("nan")
_MISSING_HISTORY: dict[str, float] = {name: _NAN for name in HISTORY_FEATURES}
_ADJUSTED_COLUMNS: tuple[tuple[str, str], ...] = tuple((group, f"adjusted_{group.lower()}") for group in GROUP_CODES)
_NO_ADJUSTMENTS: dict[str, float] = {name: 0.0 for _, name in _ADJUSTED_COLUMNS}
_GROUPS = frozenset(GROUP_CODES)


def _payer_kind(payer_id: Any, indicator: Any, payer_kinds: Mapping[str, str] | None) -> str:
    kind = payer_kind(payer_id, indicator)
    # The shipped payer directory does not know every payer; the bundle's map, learned where the
    # training data named the payer kind, fills the gap.
    if kind == "other" and payer_kinds and payer_id in payer_kinds:
        return payer_kinds[str(payer_id)]
    return kind


def _code_features(adjustments: Sequence[tuple[str, str, float]], rarcs: Sequence[str]) -> tuple[Any, ...]:
    """Return the code columns, ``carc_1`` to ``adjustment_count`` in row order."""
    reasons = list(dict.fromkeys(reason for _, reason, _ in adjustments))
    first_carc = reasons[0] if reasons else None
    carc_group = shipped_carc_category(first_carc) if first_carc else None
    first_group = adjustments[0][0] if adjustments else None
    return (
        first_carc,
        reasons[1] if len(reasons) > 1 else None,
        first_group,
        f"{first_group}-{first_carc}" if first_carc else None,
        carc_group,
        first_value(rarcs),
        str(rarcs[1]) if len(rarcs) > 1 else None,
        _code_set(adjustments, rarcs),
        float(len(reasons)),
        float(len(set(rarcs))),
        float(len(adjustments)),
    )


def _adjusted_totals(adjustments: Sequence[tuple[str, str, float]]) -> dict[str, float]:
    """Sum the known amounts of each adjustment group, in the order the adjustments come."""
    if not adjustments:
        return _NO_ADJUSTMENTS
    amounts: dict[str, list[float]] = {}
    for group, _, amount in adjustments:
        if group in _GROUPS and not math.isnan(amount):
            amounts.setdefault(group, []).append(amount)
    # sum() as before, so a Python whose sum() compensates rounding gives the same totals as it did.
    return {name: float(sum(amounts[group])) if group in amounts else 0.0 for group, name in _ADJUSTED_COLUMNS}


class _RowBuilder:
    """Build the raw feature rows of one batch, remembering the lookups that repeat from row to row.

    Payer kinds, filing limits and prior authorization rules come from code-set tables that an
    operator may replace between batches (``TRIAGE_CODESETS_DIR``), so a builder serves one batch
    and is then dropped. A key that cannot be hashed is looked up every time.
    """

    def __init__(self, payer_kinds: Mapping[str, str] | None) -> None:
        self.payer_kinds = payer_kinds
        self._dates: dict[str, dt.date | None] = {}
        self._kinds: dict[tuple[Any, Any], str] = {}
        self._filing_days: dict[str, float | None] = {}
        self._auth: dict[tuple[Any, str, str], tuple[PriorAuthRule, ...]] = {}
        self._auth_rules: tuple[PriorAuthRule, ...] | None = None
        self._codes: dict[tuple[tuple[tuple[str, str], ...], tuple[str, ...]], tuple[Any, ...]] = {}
        self._history: dict[HistoryKey, dict[str, float]] = {}

    def date(self, value: Any) -> dt.date | None:
        """Return :func:`to_date` of a value, remembered for strings (a batch shares a few dates)."""
        if type(value) is not str:
            return to_date(value)
        try:
            return self._dates[value]
        except KeyError:
            day = self._dates[value] = to_date(value)
            return day

    def history_features(self, index: ExceptionHistory | HistoryLayer, key: HistoryKey | None) -> dict[str, float]:
        """Return the history features of an exception, which depend only on its key (day, payer, CARC)."""
        if key is None:
            return _MISSING_HISTORY
        try:
            return self._history[key]
        except KeyError:
            values = self._history[key] = index.key_features(key)
            return values

    def _kind(self, payer_id: Any, evidence: Any) -> str:
        indicator = evidence.get("filing_indicator") if isinstance(evidence, Mapping) else None
        key = (payer_id, indicator)
        try:
            return self._kinds[key]
        except KeyError:
            kind = self._kinds[key] = _payer_kind(payer_id, indicator, self.payer_kinds)
            return kind
        except TypeError:
            return _payer_kind(payer_id, indicator, self.payer_kinds)

    def _filing_limit_days(self, kind: str) -> float | None:
        try:
            return self._filing_days[kind]
        except KeyError:
            limit = timely_filing_limit(kind)
            days = self._filing_days[kind] = float(limit.days) if limit else None
            return days

    def _auth_rules_for(self, payer_id: Any, kind: str, code: str) -> tuple[PriorAuthRule, ...]:
        """Return the prior authorization rules that cover this payer and procedure on some date.

        ``PriorAuthRule.matches`` without a date checks the payer, the payer kind and the code
        range only, so a rule matches on a date when it is one of these and its dates cover the day.
        """
        key = (payer_id, kind, code)
        try:
            return self._auth[key]
        except KeyError:
            pass
        except TypeError:
            return tuple(rule for rule in prior_auth_rules() if rule.matches(payer_id, kind, code, None))
        if self._auth_rules is None:
            self._auth_rules = prior_auth_rules()
        rules = self._auth[key] = tuple(rule for rule in self._auth_rules if rule.matches(payer_id, kind, code, None))
        return rules

    def _needs_auth(self, payer_id: Any, kind: str, procedures: Sequence[str], service_date: dt.date | None) -> float:
        # features.codesets.prior_auth_required for each procedure, with the rule table read once.
        for code in procedures:
            rules = self._auth_rules_for(payer_id, kind, code)
            if rules and any(rule.matches(payer_id, kind, code, service_date) for rule in rules):
                return 1.0
        return 0.0

    def _code_columns(self, adjustments: Sequence[tuple[str, str, float]], rarcs: list[str]) -> tuple[Any, ...]:
        key = (tuple([(group, reason) for group, reason, _ in adjustments]), tuple(rarcs))
        try:
            return self._codes[key]
        except KeyError:
            codes = self._codes[key] = _code_features(adjustments, rarcs)
            return codes

    def row(
        self, payload: Mapping[str, Any], adjustments: Sequence[tuple[str, str, float]],
        history_values: Mapping[str, float],
    ) -> dict[str, Any]:
        """Build one raw feature row; see :func:`exception_features`."""
        get = payload.get
        rarcs = [str(code) for code in get("rarc_codes") or []]
        procedures = [str(code) for code in get("procedure_codes") or []]
        diagnoses = [str(code) for code in get("diagnosis_codes") or []]
        evidence = get("evidence") or {}
        is_mapping = isinstance(evidence, Mapping)

        billed = to_float(get("billed_amount"))
        paid = to_float(get("paid_amount"))
        at_risk = to_float(get("amount_at_risk"))
        service_date = self.date(get("service_date"))
        detected_on = self.date(get("detected_on"))
        days_since_service = float((detected_on - service_date).days) if service_date and detected_on else _NAN
        payer_id = get("payer_id")
        kind = self._kind(payer_id, evidence)
        filing_days = self._filing_limit_days(kind)
        codes = self._code_columns(adjustments, rarcs)
        first_procedure = first_value(procedures)
        first_diagnosis = first_value(diagnoses)

        row: dict[str, Any] = {
            "kind": get("kind"),
            "finding_code": get("code"),
            "payer_id": payer_id,
            "payer_kind": kind,
            "claim_status": get("claim_status"),
            "carc_1": codes[0],
            "carc_2": codes[1],
            "group_1": codes[2],
            "group_carc_1": codes[3],
            "carc_category_1": codes[4],
            "rarc_1": codes[5],
            "rarc_2": codes[6],
            "code_set": codes[7],
            "carc_count": codes[8],
            "rarc_count": codes[9],
            "adjustment_count": codes[10],
            "procedure_1": first_procedure,
            "procedure_group_1": procedure_group(first_procedure),
            "diagnosis_1": first_diagnosis,
            "diagnosis_chapter": icd10_chapter(first_diagnosis),
            "billed_amount": billed,
            "paid_amount": paid,
            "amount_at_risk": at_risk,
            "paid_ratio": _ratio(paid, billed),
            "risk_ratio": _ratio(at_risk, billed),
            "days_since_service": days_since_service,
            "days_to_filing_deadline": (
                filing_days - days_since_service
                if filing_days is not None and not math.isnan(days_since_service) else _NAN
            ),
            "days_to_appeal_deadline": float(appeal_window_days(kind)) if get("kind") in PAYMENT_KINDS else _NAN,
            "procedure_needs_auth": self._needs_auth(payer_id, kind, procedures, service_date),
            "line_count": to_float(evidence.get("line_count")) if is_mapping else _NAN,
            "procedure_count": float(len(procedures)),
            "diagnosis_count": float(len(diagnoses)),
            "claim_candidates": _evidence_number(evidence, "claim_candidates"),
        }
        row.update(_adjusted_totals(adjustments))
        row.update(history_values)
        return row


def exception_features(
    payload: Mapping[str, Any],
    *,
    history: ExceptionHistory | HistoryLayer | None = None,
    payer_kinds: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Build the raw feature values of one exception from its JSON form.

    Only fields known when the exception was detected are read, and ``history`` only counts
    exceptions detected strictly earlier, so a feature row never leaks the label or anything that
    happened later. Without a history, the history features are missing (NaN).
    """
    history_values = history.features(payload) if history is not None else _MISSING_HISTORY
    return _RowBuilder(payer_kinds).row(payload, adjustments_by_size(payload), history_values)


@dataclass
class FeatureSpec:
    """The columns a model expects, with the state fitted on its training data.

    ``levels`` maps each categorical feature to its known values. A value seen fewer than
    ``min_count`` times in training is folded into the missing value, so rare codes do not get
    a level of their own that the model could overfit. ``frequencies`` maps each frequency-encoded
    feature to the share of training rows per value. ``payer_kinds`` names the kind of payers the
    payer directory does not list. ``history`` is the snapshot of past exceptions that serving
    counts from; it is saved apart from the spec (``history.json``) because it is large.
    """

    numeric: tuple[str, ...] = NUMERIC_FEATURES
    categorical: tuple[str, ...] = CATEGORICAL_FEATURES
    levels: dict[str, list[str]] = field(default_factory=dict)
    min_count: int = 3
    frequency: tuple[str, ...] = FREQUENCY_FEATURES
    frequencies: dict[str, dict[str, float]] = field(default_factory=dict)
    payer_kinds: dict[str, str] = field(default_factory=dict)
    history: ExceptionHistory | None = None

    @property
    def frequency_columns(self) -> list[str]:
        """Names of the frequency-encoded columns, ``<feature>_frequency``."""
        return [f"{name}_frequency" for name in self.frequency]

    @property
    def columns(self) -> list[str]:
        """Every feature name in the column order of the encoded matrix."""
        return [*self.categorical, *self.numeric, *self.frequency_columns]

    @property
    def categorical_indices(self) -> list[int]:
        """Positions of the categorical columns in the encoded matrix."""
        return list(range(len(self.categorical)))

    def feature_rows(
        self, payloads: Sequence[Mapping[str, Any]], *, history: ExceptionHistory | None = None
    ) -> list[dict[str, Any]]:
        """Build the raw feature rows of exceptions, counting history from the spec's snapshot plus the batch.

        ``history`` replaces the spec's snapshot, e.g. an index built from the store. Either way the
        batch is laid over it without changing it, and each row counts only exceptions detected
        strictly before it.
        """
        base = history if history is not None else self.history
        builder = _RowBuilder(self.payer_kinds)
        # Each payload's adjustments are read once, for its history key, its event and its row.
        adjustments = [adjustments_by_size(payload) for payload in payloads]
        keys = [history_key(payload, adjusted) for payload, adjusted in zip(payloads, adjustments, strict=True)]
        index: ExceptionHistory | HistoryLayer
        # A row counts only exceptions detected strictly before its day. So when the whole batch
        # shares one day (one request, a daily run), no row counts another and the rows count the
        # history alone. The batch's events (two hashes each) are then neither built nor indexed.
        if len({key.detected_on for key in keys if key is not None}) > 1 or base is None:
            index = HistoryLayer(base)
            index.add_events(
                event_from_payload(payload, adjusted)
                for payload, adjusted, key in zip(payloads, adjustments, keys, strict=True) if key is not None
            )
        else:
            index = base
        return [
            builder.row(payload, adjusted, builder.history_features(index, key))
            for payload, adjusted, key in zip(payloads, adjustments, keys, strict=True)
        ]

    def fit(self, rows: Iterable[Mapping[str, Any]]) -> FeatureSpec:
        """Learn the category levels and the value frequencies from training rows."""
        rows = list(rows)
        counters: dict[str, Counter[str]] = {name: Counter() for name in (*self.categorical, *self.frequency)}
        for row in rows:
            for name in counters:
                value = row.get(name)
                if value is not None and value != "":
                    counters[name][str(value)] += 1
        self.levels = {
            name: sorted(value for value, count in counters[name].items() if count >= self.min_count)
            for name in self.categorical
        }
        total = max(len(rows), 1)
        self.frequencies = {
            name: {value: round(count / total, 6) for value, count in sorted(counters[name].items())}
            for name in self.frequency
        }
        return self

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode raw rows into a float matrix: level index for categories, NaN when missing."""
        return self.encoder().encode(rows)

    def encoder(self) -> FeatureEncoder:
        """Return an encoder that contains this spec's levels and frequencies as they are now.

        Building the level lookups costs more than encoding one row, so a caller that encodes many
        batches with a spec that no longer changes (a loaded model) keeps one encoder.
        """
        return FeatureEncoder(self)

    def to_dict(self) -> dict[str, Any]:
        """Describe the spec as JSON: names, types, meanings, category levels and frequencies."""
        features = []
        for name in self.columns:
            entry: dict[str, Any] = {"name": name, "description": FEATURE_DESCRIPTIONS.get(name, "")}
            if name in self.categorical:
                entry.update(type="categorical", levels=self.levels.get(name, []))
            elif name in self.frequency_columns:
                source = name.removesuffix("_frequency")
                entry.update(type="frequency", source=source, frequencies=self.frequencies.get(source, {}))
            else:
                entry["type"] = "numeric"
            features.append(entry)
        return {"min_count": self.min_count, "payer_kinds": dict(sorted(self.payer_kinds.items())),
                "features": features}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], history: ExceptionHistory | None = None) -> FeatureSpec:
        """Rebuild a spec from :meth:`to_dict` output, with the history snapshot saved beside it."""
        features = data["features"]
        categorical = tuple(f["name"] for f in features if f["type"] == "categorical")
        numeric = tuple(f["name"] for f in features if f["type"] == "numeric")
        frequency = tuple(f["source"] for f in features if f["type"] == "frequency")
        levels = {f["name"]: list(f.get("levels", [])) for f in features if f["type"] == "categorical"}
        frequencies = {f["source"]: dict(f.get("frequencies", {})) for f in features if f["type"] == "frequency"}
        return cls(numeric=numeric, categorical=categorical, levels=levels, min_count=int(data.get("min_count", 3)),
                   frequency=frequency, frequencies=frequencies, payer_kinds=dict(data.get("payer_kinds", {})),
                   history=history)


# Below this many rows a matrix is encoded row by row. From here on it is encoded column by column,
# which pays a fixed cost per column but less per cell.
COLUMN_ENCODING_ROWS = 8


class FeatureEncoder:
    """Encode raw rows as :meth:`FeatureSpec.encode` does, with the spec's lookups built once.

    The encoder copies the spec's levels and frequencies when it is made: a spec changed later
    (refitted) needs a new encoder.
    """

    def __init__(self, spec: FeatureSpec) -> None:
        self.categorical = [
            (name, {level: float(i) for i, level in enumerate(spec.levels.get(name, []))}) for name in spec.categorical
        ]
        self.numeric = tuple(spec.numeric)
        self.frequency = [(name, dict(spec.frequencies.get(name, {}))) for name in spec.frequency]
        self.width = len(self.categorical) + len(self.numeric) + len(self.frequency)
        self.columns = spec.columns

    def encode(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode raw rows into a float matrix: level index for categories, NaN when missing."""
        if len(rows) < COLUMN_ENCODING_ROWS:
            return self._encode_rows(rows)
        return self._encode_columns(rows)

    def _encode_rows(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        missing = _NAN
        # Rows are built as Python lists and converted once, because writing a NumPy matrix cell by
        # cell costs more than the values themselves.
        data = []
        for row in rows:
            get = row.get
            values = []
            for name, lookup in self.categorical:
                value = get(name)
                values.append(missing if value is None else lookup.get(str(value), missing))
            values.extend([to_float(get(name)) for name in self.numeric])
            for name, shares in self.frequency:
                value = get(name)
                values.append(missing if value is None or value == "" else shares.get(str(value), 0.0))
            data.append(values)
        return np.array(data, dtype=np.float64).reshape(len(rows), self.width)

    def _encode_columns(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        missing = _NAN
        matrix = np.empty((len(rows), self.width), dtype=np.float64)
        column = 0
        for name, lookup in self.categorical:
            find = lookup.get
            values = [row.get(name) for row in rows]
            # str() only for values that are not plain strings: the same key, without a call per cell.
            matrix[:, column] = [
                find(value if type(value) is str else str(value), missing) if value is not None else missing
                for value in values
            ]
            column += 1
        for name in self.numeric:
            values = [row.get(name) for row in rows]
            # Feature rows hold floats; anything else goes through to_float, cell by cell.
            matrix[:, column] = values if set(map(type, values)) <= {float} else [to_float(value) for value in values]
            column += 1
        for name, shares in self.frequency:
            find = shares.get
            values = [row.get(name) for row in rows]
            matrix[:, column] = [_frequency_share(find, value, missing) for value in values]
            column += 1
        return matrix


def _frequency_share(find: Any, value: Any, missing: float) -> float:
    """Return a category's share in the training data, 0.0 for an unseen one, ``missing`` for no value."""
    if value is None or value == "":
        return missing
    key = value if type(value) is str else str(value)
    return find(key, 0.0)
