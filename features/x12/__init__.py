"""Read X12 837 claims and 835 remittances into the records of :mod:`workflow.records`.

``read_x12`` and ``read_x12_bytes`` stream a file one transaction at a time and yield Claim,
ClaimPayment, Payment, ProviderAdjustment and Finding records in file order. ``iter_segments``
is the low-level tokenizer underneath them.
"""

from features.x12.context import X12Envelope
from features.x12.reader import detect_transaction_kind, read_x12, read_x12_bytes
from features.x12.tokenizer import Delimiters, SegmentTokenizer, decode_chunks, iter_segments, parse_isa_header

__all__ = [
    "Delimiters",
    "SegmentTokenizer",
    "X12Envelope",
    "decode_chunks",
    "detect_transaction_kind",
    "iter_segments",
    "parse_isa_header",
    "read_x12",
    "read_x12_bytes",
]
