"""TR3 validation through pyx12: input rewriting, unsupported versions, pyx12 failures and the command."""

from __future__ import annotations

import concurrent.futures
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

import serving.commands.validate_x12  # noqa: F401 - registers the command on the app
from features.x12 import guide_validation
from features.x12.guide_validation import GuideValidation, validate_x12_bytes, validate_x12_file
from serving.cli import app
from tests.code.x12.x12_builders import (
    DENTAL_BODY,
    INSTITUTIONAL_BODY,
    PROFESSIONAL_BODY,
    REMITTANCE_BODY,
    interchange,
    isa_segment,
    render_interchange,
    transaction,
)

SHARED_X12 = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "x12"

runner = CliRunner()


def professional_text(version: str = "005010X222A1", **render: str) -> str:
    segments = interchange([transaction(PROFESSIONAL_BODY, reference=version)], version=version)
    return render_interchange(segments, **render)


def validate_text(text: str, encoding: str = "utf-8") -> GuideValidation:
    return validate_x12_bytes(text.encode(encoding), "test.x12")


def codes_of(result: GuideValidation) -> list[str]:
    return [finding.code for finding in result.findings]


def validator_codes(result: GuideValidation) -> list[str]:
    return [code for code in codes_of(result) if code.startswith("x12.validator_")]


def test_professional_claim_is_validated() -> None:
    result = validate_text(professional_text())
    assert result.validated is True
    assert validator_codes(result) == []


def test_missing_segment_reported_by_pyx12() -> None:
    result = validate_text(professional_text())
    missing = [finding for finding in result.findings if "(PER) missing" in finding.message]
    assert len(missing) == 1
    assert missing[0].code == "x12.tr3.segment.3"


def test_findings_point_at_reader_segment_index() -> None:
    result = validate_text(professional_text())
    repeated_hi = [finding for finding in result.findings if finding.source.segment_id == "HI"]
    # ISA, GS, ST, then HI*ABF:R50.9 is body segment 17 of the professional claim.
    assert [finding.source.segment_index for finding in repeated_hi] == [20]
    assert repeated_hi[0].source.transaction_control == "0001"
    assert repeated_hi[0].source.interchange_control == "000000101"


def test_remittance_is_validated() -> None:
    segments = interchange([transaction(REMITTANCE_BODY, "835")], version="005010X221A1", functional_id="HP")
    result = validate_text(render_interchange(segments))
    assert result.validated is True
    assert validator_codes(result) == []


def test_byte_order_mark_and_non_ascii_text() -> None:
    text = professional_text().replace("TEST CLINIC", "CLÍNICA ÑANDÚ")
    result = validate_x12_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"), "bom.x12")
    assert result.validated is True
    assert "x12.validator_crashed" not in codes_of(result)


def test_utf16_file_is_validated() -> None:
    result = validate_text(professional_text(), encoding="utf-16")
    assert result.validated is True
    assert validator_codes(result) == []


def test_errata_version_uses_prior_map() -> None:
    result = validate_text(professional_text("005010X222A2"))
    substituted = [finding for finding in result.findings if finding.code == "x12.validator_version_substituted"]
    assert result.validated is True
    assert [finding.element for finding in substituted] == ["GS08", "ST03"]
    assert substituted[0].expected == "005010X222A1"


def test_institutional_errata_version_uses_prior_map() -> None:
    segments = interchange([transaction(INSTITUTIONAL_BODY, reference="005010X223A3")], version="005010X223A3")
    result = validate_text(render_interchange(segments))
    assert result.validated is True
    assert validator_codes(result) == ["x12.validator_version_substituted", "x12.validator_version_substituted"]


@pytest.mark.parametrize("version", ["005010X224A2", "999999X999X9", "004010X098"])
def test_unsupported_version_is_reported(version: str) -> None:
    segments = interchange([transaction(DENTAL_BODY, reference=version)], version=version)
    result = validate_text(render_interchange(segments))
    unsupported = [finding for finding in result.findings if finding.code == "x12.validator_unsupported_version"]
    assert result.validated is False
    assert len(unsupported) == 1
    assert unsupported[0].value == version
    assert unsupported[0].source.segment_id == "GS"


def test_unsupported_interchange_version_is_reported() -> None:
    segments = interchange([transaction(PROFESSIONAL_BODY)], isa=isa_segment(version="00601"))
    result = validate_text(render_interchange(segments))
    assert result.validated is False
    assert validator_codes(result) == ["x12.validator_unsupported_version"]
    assert result.findings[0].element == "ISA12"


def test_pyx12_failure_becomes_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_document(*args: object, **kwargs: object) -> bool:
        raise KeyError("loop 2300")

    monkeypatch.setattr(guide_validation.pyx12.x12n_document, "x12n_document", failing_document)
    result = validate_text(professional_text())
    assert result.validated is False
    assert codes_of(result) == ["x12.validator_crashed"]
    assert "KeyError" in result.findings[0].message
    assert "loop 2300" in result.findings[0].message


def test_terminator_on_next_line_is_normalised() -> None:
    result = validate_text(professional_text(terminator="", line_break="\n~"))
    assert result.validated is True
    assert validator_codes(result) == ["x12.validator_input_normalised"]
    assert "106 characters" in result.findings[0].message


def test_text_before_isa_is_normalised() -> None:
    result = validate_text("Batch exported by the clearinghouse\n" + professional_text())
    assert result.validated is True
    assert validator_codes(result) == ["x12.validator_input_normalised"]
    assert "text before the first ISA" in result.findings[0].message


def test_unpadded_isa_is_normalised() -> None:
    segments = interchange([transaction(PROFESSIONAL_BODY)], isa=isa_segment(padded=False))
    result = validate_text(render_interchange(segments))
    assert result.validated is True
    assert validator_codes(result) == ["x12.validator_input_normalised"]
    assert not [code for code in codes_of(result) if code.startswith("x12.tr3.interchange")]


def test_line_break_terminator_is_normalised() -> None:
    result = validate_text(professional_text(terminator="\r\n", line_break=""))
    assert result.validated is True
    assert validator_codes(result) == ["x12.validator_input_normalised"]
    assert "line breaks end the segments" in result.findings[0].message


def test_interchanges_with_other_delimiters() -> None:
    first = professional_text()
    second_segments = interchange([transaction(PROFESSIONAL_BODY)], control="000000202")
    second = render_interchange(second_segments, element="|", component="^", terminator="'")
    result = validate_text(first + second)
    controls = {finding.source.interchange_control for finding in result.findings}
    second_indexes = [f.source.segment_index for f in result.findings if f.source.interchange_control == "000000202"]
    assert result.validated is True
    assert controls == {"000000101", "000000202"}
    assert min(index for index in second_indexes if index) > len(second_segments)


def test_text_without_isa_is_rejected() -> None:
    result = validate_text("GS*HC*SENDER*RECEIVER~ST*837*0001~")
    assert result.validated is False
    assert codes_of(result) == ["x12.validator_input_rejected"]


def test_overlong_isa_field_is_rejected() -> None:
    isa = isa_segment().replace("SUBMITTER      ", "A SUBMITTER ID LONGER THAN FIFTEEN")
    result = validate_text(render_interchange(interchange([transaction(PROFESSIONAL_BODY)], isa=isa)))
    assert result.validated is False
    assert "x12.validator_input_rejected" in codes_of(result)


def write_claims(tmp_path: Path, version: str = "005010X222A1") -> Path:
    path = tmp_path / f"claims-{version}.837"
    path.write_text(professional_text(version))
    return path


def test_command_writes_jsonl(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate-x12", str(write_claims(tmp_path)), "--format", "jsonl"])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0
    assert lines
    assert {line["record"] for line in lines} == {"finding"}
    assert "x12.tr3.segment.3" in {line["code"] for line in lines}


def test_command_writes_table(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate-x12", str(write_claims(tmp_path)), "--format", "table"])
    assert result.exit_code == 0
    assert "x12.tr3.segment.3" in result.stdout


def test_command_fails_for_unvalidated_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("just some notes")
    result = runner.invoke(app, ["validate-x12", str(notes), str(write_claims(tmp_path))])
    assert result.exit_code == 1
    assert "notes.txt" in result.stderr
    assert "x12.tr3.segment.3" in result.stdout


def test_command_fails_for_unsupported_version(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate-x12", str(write_claims(tmp_path, "005010X224A2"))])
    assert result.exit_code == 1
    assert "x12.validator_unsupported_version" in result.stdout


def test_command_fails_for_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate-x12", str(tmp_path / "absent.837")])
    assert result.exit_code == 1
    assert "absent.837" in result.stderr


def test_command_rejects_unknown_format(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate-x12", str(write_claims(tmp_path)), "--format", "csv"])
    assert result.exit_code == 2


# pyx12 checks about 20 to 50 KB per second, so the six samples above 100 KB alone take minutes;
# the default run leaves them out and TRIAGE_ALL_SAMPLES=1 puts them back.
DEFAULT_SAMPLE_LIMIT_BYTES = 100_000


def shared_sample_paths() -> list[Path]:
    limit = None if os.environ.get("TRIAGE_ALL_SAMPLES") else DEFAULT_SAMPLE_LIMIT_BYTES
    return sorted(
        path for path in SHARED_X12.rglob("*")
        if path.is_file() and path.name != "SOURCES.tsv" and (limit is None or path.stat().st_size <= limit)
    )


def validated_or_rejected(path: Path) -> bool:
    result = validate_x12_file(path)
    return result.validated or bool(result.findings)


@pytest.mark.shared_data
@pytest.mark.skipif(not SHARED_X12.is_dir(), reason=f"reference samples not found at {SHARED_X12}")
def test_shared_samples_raise_no_exception() -> None:
    paths = shared_sample_paths()
    with concurrent.futures.ProcessPoolExecutor() as pool:
        outcomes = dict(zip(paths, pool.map(validated_or_rejected, paths), strict=True))
    assert [path for path, ok in outcomes.items() if not ok] == []


def test_unread_isa_header_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    # x12n_document returns False without writing its error report when it cannot read the ISA.
    monkeypatch.setattr(guide_validation.pyx12.x12n_document, "x12n_document", lambda *args, **kwargs: False)
    result = validate_text(professional_text())
    assert result.validated is False
    assert codes_of(result) == ["x12.validator_input_rejected"]


def test_envelope_finding_names_its_segment() -> None:
    segments = interchange([transaction(PROFESSIONAL_BODY, reference="005010X222A1")])
    trailer = next(position for position, segment in enumerate(segments) if segment.startswith("SE*"))
    segments[trailer] = "SE*99*0001"
    result = validate_text(render_interchange(segments))
    count_errors = [finding for finding in result.findings if finding.code.startswith("x12.tr3.transaction")]
    assert [finding.source.segment_id for finding in count_errors] == ["SE"]
    assert [finding.source.segment_index for finding in count_errors] == [trailer + 1]
