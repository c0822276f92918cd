"""History features: what this payer and this claim did in the days before an exception.

An :class:`ExceptionHistory` is an index of earlier exceptions, each reduced to its detection
date, payer, primary CARC, detection kind and a hash of its claim id. For one exception it counts
the events of the last ``window_days`` days strictly before the exception's ``detected_on``, so
nothing detected on the same day or later can leak into a feature.

Training builds the index from every exception of the labelled history. A model bundle ships the
last ``window_days`` days of that index (``history.json``). Serving lays the batch it is triaging
over that snapshot in a :class:`HistoryLayer`, so the same code computes the same features in both
places, and no request copies the snapshot.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from features.payload import primary_carc, to_date

logger = logging.getLogger(__name__)

__all__ = [
    "HISTORY_DESCRIPTIONS",
    "HISTORY_FEATURES",
    "ExceptionHistory",
    "HistoryEvent",
    "HistoryKey",
    "HistoryLayer",
    "event_from_payload",
    "history_key",
]

DEFAULT_WINDOW_DAYS = 90
DENIAL_KINDS = frozenset({"denial", "zero_paid"})

HISTORY_DESCRIPTIONS: dict[str, str] = {
    "history_payer_exceptions": "exceptions from this payer in the window before detection",
    "history_payer_denials": "denials and zero-paid claims from this payer in the window before detection",
    "history_payer_carc": "exceptions from this payer with the same primary CARC in the window before detection",
    "history_payer_carc_share": "share of this payer's exceptions in the window that carry the same primary CARC",
    "history_payer_denial_share": "share of this payer's exceptions in the window that are denials",
}
HISTORY_FEATURES: tuple[str, ...] = tuple(HISTORY_DESCRIPTIONS)


@dataclass(frozen=True, order=True)
class HistoryEvent:
    """One past exception as the history index keeps it; ids are hashed, never stored in clear."""

    detected_on: dt.date
    payer_id: str
    carc: str
    kind: str
    claim_key: str
    exception_key: str


def _hash(value: str | None) -> str:
    return hashlib.sha256((value or "").encode("utf-8")).hexdigest()[:16] if value else ""


class HistoryKey(NamedTuple):
    """The detection day, payer and primary CARC that the history features of an exception count by."""

    detected_on: dt.date
    payer_id: str
    carc: str


def history_key(
    payload: Mapping[str, Any], adjustments: Sequence[tuple[str, str, float]] | None = None
) -> HistoryKey | None:
    """Return the key the history features of an exception count by; None when it has no detection date.

    ``adjustments`` are the payload's :func:`~features.payload.adjustments_by_size`, for a caller
    that has them already; without them they are read from the payload.
    """
    detected_on = to_date(payload.get("detected_on"))
    if detected_on is None:
        return None
    if adjustments is None:
        carc = primary_carc(payload)
    else:
        carc = adjustments[0][1] if adjustments else None
    return HistoryKey(detected_on, str(payload.get("payer_id") or ""), carc or "")


def event_from_payload(
    payload: Mapping[str, Any], adjustments: Sequence[tuple[str, str, float]] | None = None
) -> HistoryEvent | None:
    """Reduce an exception's JSON form to a history event; None when it has no detection date.

    ``adjustments`` are as for :func:`history_key`.
    """
    key = history_key(payload, adjustments)
    if key is None:
        return None
    return HistoryEvent(
        detected_on=key.detected_on,
        payer_id=key.payer_id,
        carc=key.carc,
        kind=str(payload.get("kind") or ""),
        claim_key=_hash(payload.get("claim_id")),
        exception_key=_hash(payload.get("exception_id")),
    )


@dataclass
class ExceptionHistory:
    """An index of past exceptions that answers "how many before this date" questions in log time."""

    window_days: int = DEFAULT_WINDOW_DAYS
    events: list[HistoryEvent] = field(default_factory=list)
    _dates: dict[tuple[str, ...], list[int]] = field(default_factory=dict, repr=False)
    _seen: set[str] = field(default_factory=set, repr=False)

    def __post_init__(self) -> None:
        existing, self.events = self.events, []
        self._dates = defaultdict(list)
        self._add_events(existing)

    @classmethod
    def from_payloads(cls, payloads: Iterable[Mapping[str, Any]], window_days: int = DEFAULT_WINDOW_DAYS) -> ExceptionHistory:
        """Index exceptions given in their JSON form."""
        history = cls(window_days=window_days)
        history.add(payloads)
        return history

    def add(self, payloads: Iterable[Mapping[str, Any]]) -> None:
        """Add exceptions; an exception id already in the index is skipped, so re-adding is harmless."""
        events = [event for event in (event_from_payload(p) for p in payloads) if event is not None]
        self._add_events(events)

    def _add_events(self, events: Iterable[HistoryEvent]) -> None:
        for event in events:
            if event.exception_key and event.exception_key in self._seen:
                continue
            self._seen.add(event.exception_key)
            self.events.append(event)
            ordinal = event.detected_on.toordinal()
            for key in self._keys(event):
                bisect.insort(self._dates[key], ordinal)

    @staticmethod
    def _keys(event: HistoryEvent) -> list[tuple[str, ...]]:
        keys = [("payer", event.payer_id), ("payer_carc", event.payer_id, event.carc)]
        if event.kind in DENIAL_KINDS:
            keys.append(("payer_denial", event.payer_id))
        return keys

    def copy(self) -> ExceptionHistory:
        """Return an independent index with the same events."""
        return ExceptionHistory(window_days=self.window_days, events=list(self.events))

    def _count(self, key: tuple[str, ...], before: int) -> int:
        dates = self._dates.get(key)
        if not dates:
            return 0
        low = bisect.bisect_left(dates, before - self.window_days)
        high = bisect.bisect_left(dates, before)
        return high - low

    def features(self, payload: Mapping[str, Any]) -> dict[str, float]:
        """Return the history features of one exception, counting only events strictly before it."""
        return _key_features(history_key(payload), self._count)

    def key_features(self, key: HistoryKey | None) -> dict[str, float]:
        """Return the history features of the exception that ``key`` describes, without parsing a payload."""
        return _key_features(key, self._count)

    def layer(self) -> HistoryLayer:
        """Return an empty layer over this index, for a batch that must not change the index itself."""
        return HistoryLayer(self)

    def snapshot(self, covering: dt.date | None = None) -> ExceptionHistory:
        """Return the events that exceptions detected on or after ``covering`` can count.

        Without ``covering``, the snapshot serves exceptions after the latest event: the last
        ``window_days`` days.
        """
        if not self.events:
            return ExceptionHistory(window_days=self.window_days)
        latest = max(event.detected_on for event in self.events)
        start = min(covering or latest, latest) - dt.timedelta(days=self.window_days)
        return ExceptionHistory(window_days=self.window_days,
                                events=[event for event in self.events if event.detected_on >= start])

    def to_dict(self) -> dict[str, Any]:
        """Describe the index as JSON, events sorted so the same history writes the same bytes."""
        return {
            "window_days": self.window_days,
            "fields": ["detected_on", "payer_id", "carc", "kind", "claim_key", "exception_key"],
            "events": [
                [e.detected_on.isoformat(), e.payer_id, e.carc, e.kind, e.claim_key, e.exception_key]
                for e in sorted(self.events)
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExceptionHistory:
        """Rebuild an index from :meth:`to_dict` output."""
        events = [
            HistoryEvent(dt.date.fromisoformat(row[0]), row[1], row[2], row[3], row[4], row[5])
            for row in data.get("events", [])
        ]
        return cls(window_days=int(data.get("window_days", DEFAULT_WINDOW_DAYS)), events=events)


class HistoryLayer:
    """A batch's events on top of a read-only :class:`ExceptionHistory`; counts add both.

    The features equal those of a copy of the base with the batch added, because an event whose
    exception id the base contains is skipped, as :meth:`ExceptionHistory.add` skips it. The base
    is only read, so many threads may layer their batches over one snapshot at once.
    """

    def __init__(self, base: ExceptionHistory | None = None) -> None:
        self.base = base
        self.own = ExceptionHistory(window_days=base.window_days if base is not None else DEFAULT_WINDOW_DAYS)

    @property
    def window_days(self) -> int:
        """Days before an exception that its history features count."""
        return self.own.window_days

    def add(self, payloads: Iterable[Mapping[str, Any]]) -> None:
        """Add exceptions to the layer; an id already in the base or the layer is skipped."""
        self.add_events(event_from_payload(p) for p in payloads)

    def add_events(self, events: Iterable[HistoryEvent | None]) -> None:
        """Add events built by :func:`event_from_payload`; None (no detection date) is skipped."""
        events = [event for event in events if event is not None]
        if self.base is not None:
            seen = self.base._seen
            events = [event for event in events if not (event.exception_key and event.exception_key in seen)]
        self.own._add_events(events)

    def _count(self, key: tuple[str, ...], before: int) -> int:
        own = self.own._count(key, before)
        return own + self.base._count(key, before) if self.base is not None else own

    def features(self, payload: Mapping[str, Any]) -> dict[str, float]:
        """Return the history features of one exception, counting the base and the layer."""
        return _key_features(history_key(payload), self._count)

    def key_features(self, key: HistoryKey | None) -> dict[str, float]:
        """Return the history features of the exception that ``key`` describes, without parsing a payload."""
        return _key_features(key, self._count)


def _key_features(key: HistoryKey | None, count: Callable[[tuple[str, ...], int], int]) -> dict[str, float]:
    """Return the history features of one exception from ``count(key, before_ordinal)``; NaN without a key."""
    if key is None:
        return {name: float("nan") for name in HISTORY_FEATURES}
    before = key.detected_on.toordinal()
    payer = count(("payer", key.payer_id), before)
    denials = count(("payer_denial", key.payer_id), before)
    same_carc = count(("payer_carc", key.payer_id, key.carc), before) if key.carc else 0
    return {
        "history_payer_exceptions": float(payer),
        "history_payer_denials": float(denials),
        "history_payer_carc": float(same_carc),
        "history_payer_carc_share": same_carc / payer if payer else float("nan"),
        "history_payer_denial_share": denials / payer if payer else float("nan"),
    }
