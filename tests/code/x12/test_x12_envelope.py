"""Envelopes: several interchanges, groups and transactions, count checks, broken transactions."""

from __future__ import annotations

import pytest

from features.x12 import read_x12, read_x12_bytes
from tests.code.x12.x12_builders import (
    DENTAL_BODY,
    PROFESSIONAL_BODY,
    REMITTANCE_BODY,
    interchange,
    isa_segment,
    render_interchange,
    transaction,
)
from workflow.errors import NotX12Error
from workflow.records import Claim, ClaimPayment, Finding, Record, Severity


def read_text(text: str) -> list[Record]:
    return list(read_x12_bytes(text.encode(), "test.x12"))


def findings_of(records: list[Record]) -> list[Finding]:
    return [r for r in records if isinstance(r, Finding)]


def claims_of(records: list[Record]) -> list[Claim]:
    return [r for r in records if isinstance(r, Claim)]


def test_clean_interchange_has_no_findings() -> None:
    records = read_text(render_interchange(interchange([transaction(PROFESSIONAL_BODY)])))
    assert findings_of(records) == []


def test_several_interchanges_groups_transactions() -> None:
    first = interchange([transaction(PROFESSIONAL_BODY, control="0001"), transaction(DENTAL_BODY, control="0002")])
    second = interchange([transaction(PROFESSIONAL_BODY, control="0003")], control="000000102", isa=isa_segment("000000102"))
    records = read_text(render_interchange(first) + render_interchange(second))
    claims = claims_of(records)
    assert [c.source.transaction_control for c in claims] == ["0001", "0002", "0003"]
    assert [c.source.interchange_control for c in claims] == ["000000101", "000000101", "000000102"]
    # The dental transaction sits in a group whose GS08 names the professional guide.
    assert [f.code for f in findings_of(records)] == ["x12.version_mismatch"]


def test_hl_ids_restart_per_transaction() -> None:
    segments = interchange([transaction(PROFESSIONAL_BODY, control="0001"), transaction(PROFESSIONAL_BODY, control="0002")])
    claims = claims_of(read_text(render_interchange(segments)))
    assert [c.billing_npi for c in claims] == ["1234567893", "1234567893"]


def test_se_count_mismatch_is_warning() -> None:
    segments = interchange([transaction(PROFESSIONAL_BODY)])
    segments = [s.replace(f"SE*{len(PROFESSIONAL_BODY) + 2}*0001", "SE*99*0001") for s in segments]
    records = read_text(render_interchange(segments))
    (finding,) = findings_of(records)
    assert (finding.code, finding.severity) == ("x12.se_count_mismatch", Severity.WARNING)
    assert (finding.element, finding.value, finding.expected) == ("SE01", "99", str(len(PROFESSIONAL_BODY) + 2))
    assert len(claims_of(records)) == 1


def test_control_number_mismatches() -> None:
    segments = interchange([transaction(PROFESSIONAL_BODY)])
    segments = [s.replace("*0001", "*0009") if s.startswith("SE") else s for s in segments]
    segments[-2] = "GE*2*999"
    segments[-1] = "IEA*3*000000999"
    codes = [f.code for f in findings_of(read_text(render_interchange(segments)))]
    assert codes == [
        "x12.se_control_mismatch",
        "x12.ge_count_mismatch",
        "x12.ge_control_mismatch",
        "x12.iea_count_mismatch",
        "x12.iea_control_mismatch",
    ]


def test_missing_se_is_reported() -> None:
    segments = interchange([transaction(PROFESSIONAL_BODY)])
    segments = [s for s in segments if not s.startswith("SE")]
    records = read_text(render_interchange(segments))
    finding = findings_of(records)[0]
    assert (finding.code, finding.expected, finding.source.segment_id) == ("x12.missing_segment", "SE", "GE")
    assert len(claims_of(records)) == 1


def test_missing_trailers_at_end() -> None:
    text = render_interchange(interchange([transaction(PROFESSIONAL_BODY)])[:-2])
    expected = [f.expected for f in findings_of(read_text(text))]
    assert expected == ["GE", "IEA"]


def test_malformed_transaction_does_not_stop_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import features.x12.reader as reader

    original = reader.read_835

    def failing_835(segments, context):  # noqa: ANN001, ANN202 - matches the patched function
        if context.envelope.transaction_control == "0001":
            raise ValueError("broken on purpose")
        return original(segments, context)

    monkeypatch.setattr(reader, "read_835", failing_835)
    segments = interchange(
        [transaction(REMITTANCE_BODY, "835", "0001"), transaction(REMITTANCE_BODY, "835", "0002")],
        version="005010X221A1",
        functional_id="HP",
    )
    records = read_text(render_interchange(segments))
    assert findings_of(records)[0].code == "x12.malformed_transaction"
    assert {c.source.transaction_control for c in records if isinstance(c, ClaimPayment)} == {"0002"}


def test_unsupported_transaction_is_info() -> None:
    segments = interchange([transaction(["AK1*HC*1", "AK9*A*1*1*1"], set_id="999")], functional_id="FA")
    (finding,) = findings_of(read_text(render_interchange(segments)))
    assert (finding.code, finding.severity) == ("x12.unsupported_transaction", Severity.INFO)


def test_stray_segments_reported_once() -> None:
    text = render_interchange(interchange([transaction(PROFESSIONAL_BODY)])) + "STC*A1~STC*A2~"
    codes = [f.code for f in findings_of(read_text(text))]
    assert codes == ["x12.segment_outside_transaction"]


@pytest.mark.parametrize(
    "data",
    [b"", b"hello world", b"GS*HC*A*B*20240101*1200*1*X*005010X222A1~ST*837*0001~SE*2*0001~", b"\x00\x01\x02ISA"],
)
def test_not_x12_raises(data: bytes) -> None:
    with pytest.raises(NotX12Error):
        list(read_x12_bytes(data, "bad.txt"))


def test_not_x12_message_names_file() -> None:
    with pytest.raises(NotX12Error, match="bad.txt"):
        list(read_x12_bytes(b"plain text", "bad.txt"))


def test_document_id_is_sha256(tmp_path) -> None:  # noqa: ANN001 - pytest fixture
    import hashlib

    data = render_interchange(interchange([transaction(PROFESSIONAL_BODY)])).encode()
    path = tmp_path / "claims.837"
    path.write_bytes(data)
    claim = claims_of(list(read_x12(path)))[0]
    assert claim.source.document_id == hashlib.sha256(data).hexdigest()
    assert claim.source.file == str(path)


def test_explicit_document_id_used() -> None:
    data = render_interchange(interchange([transaction(PROFESSIONAL_BODY)])).encode()
    claim = claims_of(list(read_x12_bytes(data, "a.837", document_id="doc-1")))[0]
    assert claim.source.document_id == "doc-1"
