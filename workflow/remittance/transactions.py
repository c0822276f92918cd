"""Assign claim payments and PLB adjustments to the 835 transaction (BPR) they belong to.

A record belongs to the nearest payment header before it in the same document. Control numbers
cannot decide this, because real files repeat one ST control number for every transaction.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence

from workflow.records import Payment, Source

__all__ = ["TransactionIndex", "TransactionKey"]

TransactionKey = tuple[str, int | None, str | None, str | None, str | None]
"""(document id, BPR segment index, interchange, group and transaction control numbers)."""


def _control_key(source: Source, segment_index: int | None) -> TransactionKey:
    return (source.document_id, segment_index, source.interchange_control, source.group_control,
            source.transaction_control)


class TransactionIndex:
    """Payment headers by document and position, to find the transaction of any 835 record."""

    def __init__(self, headers: Sequence[Payment]) -> None:
        self._positions: dict[str, list[int]] = defaultdict(list)
        self._keys: dict[tuple[str, int], TransactionKey] = {}
        for header in headers:
            position = header.source.segment_index
            if position is None:
                continue
            self._positions[header.source.document_id].append(position)
            self._keys[(header.source.document_id, position)] = _control_key(header.source, position)
        for positions in self._positions.values():
            positions.sort()

    def key_of_header(self, header: Payment) -> TransactionKey:
        """Return the key of the transaction that ``header`` opens."""
        return _control_key(header.source, header.source.segment_index)

    def key_for(self, source: Source) -> TransactionKey:
        """Return the key of the transaction that a record at ``source`` belongs to.

        Without a segment index, or before the document's first header, the record keeps a key of
        its own control numbers, so it joins no transaction by accident.
        """
        positions = self._positions.get(source.document_id, [])
        if source.segment_index is not None and positions:
            found = bisect.bisect_right(positions, source.segment_index) - 1
            if found >= 0:
                return self._keys[(source.document_id, positions[found])]
        return _control_key(source, None)
