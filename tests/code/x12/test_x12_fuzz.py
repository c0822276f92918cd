"""Random, truncated and corrupted bytes give records, findings or NotX12Error, never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.x12 import read_x12_bytes
from tests.code.x12.x12_builders import (
    INSTITUTIONAL_BODY,
    PROFESSIONAL_BODY,
    REMITTANCE_BODY,
    interchange,
    render_interchange,
    transaction,
)
from workflow.errors import NotX12Error
from workflow.records import Claim, ClaimPayment, Finding, Payment, ProviderAdjustment

RECORD_TYPES = (Claim, ClaimPayment, Finding, Payment, ProviderAdjustment)

SAMPLES = [
    render_interchange(interchange([transaction(PROFESSIONAL_BODY), transaction(INSTITUTIONAL_BODY, control="0002")])).encode(),
    render_interchange(
        interchange([transaction(REMITTANCE_BODY, "835")], version="005010X221A1", functional_id="HP")
    ).encode(),
]


def read_all_or_not_x12(data: bytes) -> None:
    try:
        records = list(read_x12_bytes(data, "fuzz.x12"))
    except NotX12Error:
        return
    assert all(isinstance(record, RECORD_TYPES) for record in records)


@given(st.binary(max_size=2000))
@settings(max_examples=300, deadline=None)
def test_random_bytes(data: bytes) -> None:
    read_all_or_not_x12(data)


@given(st.sampled_from(SAMPLES), st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_truncated_interchange(sample: bytes, data: st.DataObject) -> None:
    end = data.draw(st.integers(min_value=0, max_value=len(sample)))
    read_all_or_not_x12(sample[:end])


@given(st.sampled_from(SAMPLES), st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_corrupted_interchange(sample: bytes, data: st.DataObject) -> None:
    corrupted = bytearray(sample)
    for _ in range(data.draw(st.integers(min_value=1, max_value=20))):
        position = data.draw(st.integers(min_value=0, max_value=len(corrupted) - 1))
        corrupted[position] = data.draw(st.sampled_from(b"*:~^|\r\n 0A-.\x00\xff"))
    read_all_or_not_x12(bytes(corrupted))


@given(st.lists(st.sampled_from(["ISA*", "GS*", "ST*835*1~", "ST*837*1~", "SE*", "CLP*", "CLM*1*", "~", "*", ":", "\n", "PLB*1*2*A:B*x"]), max_size=60))
@settings(max_examples=300, deadline=None)
def test_segment_soup(parts: list[str]) -> None:
    prefix = SAMPLES[0][:106]
    read_all_or_not_x12(prefix + "".join(parts).encode())
