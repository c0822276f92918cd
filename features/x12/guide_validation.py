"""Validate X12 files against the TR3 implementation guides with pyx12, as Finding records.

pyx12 4.0 reads only a narrow shape of input: ASCII text that starts with a fixed-width
106-character ISA header, one set of delimiters for the whole file, and a map for the exact GS08
version. This module decodes the bytes with the reader's decoding, splits the file into
interchanges with the reader's tokenizer and writes each interchange again in that shape, one
segment per line. Every change made to the text handed to pyx12 is reported as an info finding, so
a reviewer can tell pyx12's complaints from the rewriting.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyx12.map_index
import pyx12.params
import pyx12.x12n_document

from features.x12.tokenizer import Delimiters, SegmentTokenizer, decode_chunks, parse_isa_header
from workflow.records import Finding, Severity, Source

__all__ = ["GuideValidation", "validate_x12_bytes", "validate_x12_file"]

logger = logging.getLogger(__name__)

ISA_FIELD_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
"""Fixed widths of ISA01 to ISA16; pyx12 finds the delimiters at fixed offsets of a 106-character ISA."""

ISA_LENGTH = 106
"""Characters of a fixed-width ISA header, its segment terminator included."""

ERRATA_MAPS = {"005010X222A2": "005010X222A1", "005010X223A3": "005010X223A2"}
"""Errata versions that pyx12 4.0 has no map for, mapped to the earlier version whose map it has.

NOTE: the earlier map is only an approximation of the errata guide, so a segment or code value the
errata added or changed may be reported as an error. The substitution finding states this.
"""

SUPPORTED_INTERCHANGE_VERSIONS = ("00401", "00501")
"""ISA12 versions pyx12 4.0 can read."""

_REPLACEMENT_TERMINATORS = ("~", "'", "!", "|", "`")
"""Terminators used in place of a line-break terminator, the first one the data does not contain."""

_ISA_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])ISA")


@dataclass(slots=True)
class GuideValidation:
    """The outcome of validating one file: its findings and whether pyx12 checked any of it.

    ``validated`` is False when the file could not be checked at all: it is not X12, every
    interchange has a version pyx12 has no map for, or pyx12 failed on every interchange.
    """

    file: str
    document_id: str
    findings: list[Finding] = field(default_factory=list)
    validated: bool = False


@dataclass(slots=True)
class _Interchange:
    delimiters: Delimiters
    first_index: int
    segments: list[list[str]] = field(default_factory=list)

    @property
    def control(self) -> str:
        return self.segments[0][13].strip() if len(self.segments[0]) > 13 else ""


def validate_x12_file(path: str | os.PathLike) -> GuideValidation:
    """Validate the X12 file at ``path`` against its implementation guide.

    Raises OSError when the file cannot be read; every other problem is a finding.
    """
    data = Path(path).read_bytes()
    return validate_x12_bytes(data, str(path))


def validate_x12_bytes(data: bytes, file: str, document_id: str | None = None) -> GuideValidation:
    """Validate X12 bytes against their implementation guide with pyx12.

    ``file`` names the input in every Source; ``document_id`` defaults to the sha256 hex of
    ``data``, as in :func:`features.x12.read_x12_bytes`. Findings point at segments by the
    reader's ``segment_index``, so they line up with the records ``triage parse`` writes.
    """
    if document_id is None:
        document_id = hashlib.sha256(data).hexdigest()
    result = GuideValidation(file=file, document_id=document_id)

    # NOTE: the whole decoded file is held in memory, unlike the streaming reader. pyx12 checks
    # a few hundred KB per second at best, so files large enough for this to matter are
    # impractical to validate anyway.
    text = "".join(decode_chunks([data]))
    interchanges, preamble = _split_interchanges(text)
    if not interchanges:
        result.findings.append(
            _file_finding(
                result,
                Severity.ERROR,
                "x12.validator_input_rejected",
                "no X12 interchange header (ISA) found; the file was not validated. "
                "An X12 file must begin its interchange with ISA",
            )
        )
        return result

    reasons = _normalisation_reasons(text, preamble)
    if reasons:
        result.findings.append(
            _file_finding(
                result,
                Severity.INFO,
                "x12.validator_input_normalised",
                "the text handed to pyx12 was rewritten, one segment per line, because "
                + "; ".join(reasons)
                + ". Segment positions in findings refer to the original file",
            )
        )

    for interchange in interchanges:
        if _validate_interchange(interchange, result):
            result.validated = True
    return result


# Splitting and writing the input ---------------------------------------------------------


def _split_interchanges(text: str) -> tuple[list[_Interchange], bool]:
    # Returns the interchanges and whether non-blank text came before the first ISA. Segments
    # between an IEA and the next ISA stay with the interchange before them, as pyx12 would
    # read them there.
    tokenizer = SegmentTokenizer([text])
    interchanges: list[_Interchange] = []
    for elements in tokenizer:
        if elements[0] == "ISA" and len(elements) == 17:
            assert tokenizer.delimiters is not None
            interchanges.append(_Interchange(tokenizer.delimiters, tokenizer.segment_index))
        if interchanges:
            interchanges[-1].segments.append(elements)
    preamble = bool(text[: _first_isa_position(text)].strip())
    return interchanges, preamble


def _first_isa_position(text: str) -> int:
    match = _ISA_CANDIDATE.search(text)
    return match.start() if match else len(text)


def _normalisation_reasons(text: str, preamble: bool) -> list[str]:
    reasons = []
    if preamble:
        reasons.append("text before the first ISA header was removed")
    elif not text.startswith("ISA"):
        reasons.append("blank text before the first ISA header was removed")

    layouts = set()
    for match in _ISA_CANDIDATE.finditer(text):
        header = parse_isa_header(text, match.start())
        if header is None:
            continue
        _, delimiters, end = header
        if delimiters.segment in " \t\r\n":
            layouts.add("line breaks end the segments, so another terminator was used")
        elif end - match.start() != ISA_LENGTH:
            layouts.add(
                "an ISA header is not the fixed 106 characters (unpadded fields, or its terminator "
                "starts the next line), so its fields were padded to their fixed widths"
            )
    reasons.extend(sorted(layouts))
    return reasons


# NOTE: the segments come from the reader's tokenizer, which strips spaces and line breaks around
# them, so pyx12's check for a segment that starts with a space never fires.
def _render_interchange(interchange: _Interchange, versions: dict[str, str]) -> str:
    delimiters = interchange.delimiters
    terminator = _terminator_for(interchange)
    lines = []
    for elements in interchange.segments:
        segment_id = elements[0]
        if segment_id == "ISA" and len(elements) == 17:
            elements = _fixed_width_isa(elements)
        elif segment_id == "GS" and len(elements) > 8 and elements[8].strip() in versions:
            elements = [*elements[:8], versions[elements[8].strip()], *elements[9:]]
        elif segment_id == "ST" and len(elements) > 3 and elements[3].strip() in versions:
            elements = [*elements[:3], versions[elements[3].strip()], *elements[4:]]
        lines.append(delimiters.element.join(elements) + terminator + "\n")
    return "".join(lines)


def _terminator_for(interchange: _Interchange) -> str:
    terminator = interchange.delimiters.segment
    if terminator not in " \t\r\n":
        return terminator
    used = {character for elements in interchange.segments for value in elements for character in value}
    for candidate in _REPLACEMENT_TERMINATORS:
        if candidate not in used and candidate not in (interchange.delimiters.element, interchange.delimiters.component):
            return candidate
    # NOTE: data that contains every candidate keeps its line-break terminator, which pyx12
    # then reads with the line break as part of the segment.
    return terminator


def _fixed_width_isa(elements: list[str]) -> list[str]:
    # Only short fields are padded: a field longer than its width stays as it is and pyx12
    # rejects the header, which is then reported.
    padded = ["ISA"]
    for value, width in zip(elements[1:], ISA_FIELD_WIDTHS, strict=True):
        padded.append(value.ljust(width))
    return padded


# Running pyx12 -----------------------------------------------------------------------------


def _validate_interchange(interchange: _Interchange, result: GuideValidation) -> bool:
    """Run pyx12 on one interchange and add its findings; return whether pyx12 checked it."""
    isa = interchange.segments[0]
    interchange_version = isa[12].strip()
    if interchange_version not in SUPPORTED_INTERCHANGE_VERSIONS:
        result.findings.append(
            _interchange_finding(
                result,
                interchange,
                Severity.WARNING,
                "x12.validator_unsupported_version",
                f"ISA12 is {interchange_version!r}; pyx12 reads only interchange versions 00401 and "
                "00501, so this interchange was not validated",
                segment_index=interchange.first_index,
                segment_id="ISA",
                element="ISA12",
                value=interchange_version,
                expected="00401 or 00501",
            )
        )
        return False

    versions = _substitute_versions(interchange, result)
    unsupported = _unsupported_groups(interchange, interchange_version, versions, result)
    if unsupported:
        return False

    document = _render_interchange(interchange, versions)
    if not document.startswith("ISA") or document.index("\n") != ISA_LENGTH:
        result.findings.append(
            _interchange_finding(
                result,
                interchange,
                Severity.ERROR,
                "x12.validator_input_rejected",
                "an ISA field is longer than its fixed width, so pyx12 cannot read the header; "
                "the interchange was not validated. The sender must correct the ISA header",
                segment_index=interchange.first_index,
                segment_id="ISA",
            )
        )
        return False
    return _run_pyx12(document, interchange, result)


def _substitute_versions(interchange: _Interchange, result: GuideValidation) -> dict[str, str]:
    versions: dict[str, str] = {}
    for index, elements in enumerate(interchange.segments):
        segment_id = elements[0]
        if segment_id == "GS":
            position = 8
        elif segment_id == "ST":
            position = 3
        else:
            continue
        if len(elements) <= position:
            continue
        declared = elements[position].strip()
        if declared not in ERRATA_MAPS:
            continue
        versions[declared] = ERRATA_MAPS[declared]
        result.findings.append(
            _interchange_finding(
                result,
                interchange,
                Severity.INFO,
                "x12.validator_version_substituted",
                f"pyx12 has no map for {declared}; {segment_id}{position:02d} was handed to it as "
                f"{ERRATA_MAPS[declared]}, the nearest version it has a map for. Segments and codes "
                "the errata changed may be reported as errors",
                segment_index=interchange.first_index + index,
                segment_id=segment_id,
                element=f"{segment_id}{position:02d}",
                value=declared,
                expected=ERRATA_MAPS[declared],
            )
        )
    return versions


def _unsupported_groups(
    interchange: _Interchange, interchange_version: str, versions: dict[str, str], result: GuideValidation
) -> bool:
    # pyx12 stops the whole run with an EngineError at a GS whose version it has no map for, so
    # an interchange with any such group is reported and not handed over.
    maps = _map_index()
    unsupported = False
    for index, elements in enumerate(interchange.segments):
        if elements[0] != "GS":
            continue
        functional_id = elements[1].strip() if len(elements) > 1 else ""
        declared = elements[8].strip() if len(elements) > 8 else ""
        version = versions.get(declared, declared)
        if maps.get_filename(interchange_version, version, functional_id) is not None:
            continue
        unsupported = True
        result.findings.append(
            _interchange_finding(
                result,
                interchange,
                Severity.WARNING,
                "x12.validator_unsupported_version",
                f"pyx12 has no implementation guide map for GS08 {declared!r} with GS01 "
                f"{functional_id!r} in interchange version {interchange_version}; this interchange "
                "was not validated. pyx12 4.0 has maps for 835 005010X221A1, 837P 005010X222A1, "
                "837I 005010X223A2 and the 004010 A1 guides, and none for 5010 dental (005010X224)",
                segment_index=interchange.first_index + index,
                segment_id="GS",
                element="GS08",
                value=declared,
            )
        )
    return unsupported


def _run_pyx12(document: str, interchange: _Interchange, result: GuideValidation) -> bool:
    errors_json = io.StringIO()
    try:
        with _pyx12_logging_silenced():
            pyx12.x12n_document.x12n_document(
                pyx12.params.params(), io.StringIO(document), None, None, fd_json=errors_json
            )
    except Exception as error:  # noqa: BLE001 - a pyx12 failure must become a finding, not stop the run
        logger.warning(
            "pyx12 failed on interchange %s of document %s: %s", interchange.control, result.document_id, type(error).__name__
        )
        result.findings.append(
            _interchange_finding(
                result,
                interchange,
                Severity.ERROR,
                "x12.validator_crashed",
                f"pyx12 failed with {type(error).__name__}: {error}; this interchange was not "
                "validated. Report the file to the maintainers",
                segment_index=interchange.first_index,
                segment_id="ISA",
            )
        )
        return False

    if not errors_json.getvalue():
        # x12n_document returns before writing its report when its reader rejects the ISA header.
        result.findings.append(
            _interchange_finding(
                result,
                interchange,
                Severity.ERROR,
                "x12.validator_input_rejected",
                "pyx12 could not read the ISA header of this interchange, so it was not validated. "
                "Check the ISA header against the fixed 106-character layout",
                segment_index=interchange.first_index,
                segment_id="ISA",
            )
        )
        return False
    report = json.loads(errors_json.getvalue())
    result.findings.extend(_findings_from_report(report, interchange, result))
    return True


@functools.cache
def _map_index() -> pyx12.map_index.map_index:
    return pyx12.map_index.map_index()


@contextlib.contextmanager
def _pyx12_logging_silenced() -> Iterator[None]:
    # pyx12 logs every error it finds with the segment text, which can hold member data. The
    # same errors come back as findings, so its log records are dropped while it runs.
    # NOTE: this changes the level of the shared "pyx12" logger, so two threads validating at
    # once may restore it in the wrong order.
    pyx12_logger = logging.getLogger("pyx12")
    previous = pyx12_logger.level
    pyx12_logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        pyx12_logger.setLevel(previous)


# Turning pyx12's error report into findings --------------------------------------------------


def _findings_from_report(report: dict[str, Any], interchange: _Interchange, result: GuideValidation) -> Iterator[Finding]:
    """Yield one finding per error in pyx12's JSON error report, nested ISA / GS / ST / segment."""
    for isa in report.get("interchanges", []):
        yield from _level_findings(isa, "interchange", "ISA", interchange, result, None, None)
        for group in isa.get("groups", []):
            group_control = group.get("gs_control_num")
            yield from _level_findings(group, "group", "GS", interchange, result, group_control, None)
            for transaction in group.get("transactions", []):
                transaction_control = transaction.get("trn_set_control_num")
                yield from _level_findings(
                    transaction, "transaction", "ST", interchange, result, group_control, transaction_control
                )
                for segment in transaction.get("segments", []):
                    yield from _segment_findings(segment, interchange, result, group_control, transaction_control)


def _level_findings(
    node: dict[str, Any],
    level: str,
    segment_id: str,
    interchange: _Interchange,
    result: GuideValidation,
    group_control: str | None,
    transaction_control: str | None,
) -> Iterator[Finding]:
    for error in node.get("errors", []):
        yield _interchange_finding(
            result,
            interchange,
            Severity.ERROR,
            f"x12.tr3.{level}.{error.get('err_cde')}",
            str(error.get("err_str")),
            segment_index=_segment_index(interchange, node.get("cur_line")),
            segment_id=_segment_id_at(interchange, node.get("cur_line")) or segment_id,
            group_control=group_control,
            transaction_control=transaction_control,
        )


def _segment_findings(
    segment: dict[str, Any],
    interchange: _Interchange,
    result: GuideValidation,
    group_control: str | None,
    transaction_control: str | None,
) -> Iterator[Finding]:
    segment_id = segment.get("seg_id")
    segment_index = _segment_index(interchange, segment.get("cur_line"))
    for error in segment.get("errors", []):
        yield _interchange_finding(
            result,
            interchange,
            Severity.ERROR,
            f"x12.tr3.segment.{error.get('err_cde')}",
            str(error.get("err_str")),
            segment_index=segment_index,
            segment_id=segment_id,
            value=error.get("err_val"),
            group_control=group_control,
            transaction_control=transaction_control,
        )
    for element in segment.get("elements", []):
        name = _element_name(segment_id, element)
        for error in element.get("errors", []):
            yield _interchange_finding(
                result,
                interchange,
                Severity.ERROR,
                f"x12.tr3.element.{error.get('err_cde')}",
                str(error.get("err_str")),
                segment_index=segment_index,
                segment_id=segment_id,
                element=name,
                value=error.get("err_val"),
                group_control=group_control,
                transaction_control=transaction_control,
            )


def _element_name(segment_id: str | None, element: dict[str, Any]) -> str | None:
    position = element.get("ele_pos")
    if not segment_id or not isinstance(position, int):
        return None
    name = f"{segment_id}{position:02d}"
    component = element.get("subele_pos")
    if isinstance(component, int) and component > 0:
        name += f"-{component}"
    return name


def _segment_id_at(interchange: _Interchange, line: Any) -> str | None:
    # pyx12 reports an envelope error at the line it had reached, often the trailer (SE, GE, IEA).
    if not isinstance(line, int) or not 1 <= line <= len(interchange.segments):
        return None
    return interchange.segments[line - 1][0]


def _segment_index(interchange: _Interchange, line: Any) -> int | None:
    # pyx12 numbers the segments of its input from 1 at the ISA, and each interchange is handed
    # to it alone, so its line n is segment n of the interchange.
    if not isinstance(line, int) or line < 1:
        return None
    return interchange.first_index + line - 1


def _interchange_finding(
    result: GuideValidation,
    interchange: _Interchange,
    severity: Severity,
    code: str,
    message: str,
    *,
    segment_index: int | None = None,
    segment_id: str | None = None,
    element: str | None = None,
    value: str | None = None,
    expected: str | None = None,
    group_control: str | None = None,
    transaction_control: str | None = None,
) -> Finding:
    source = Source(
        file=result.file,
        document_id=result.document_id,
        interchange_control=interchange.control or None,
        group_control=group_control,
        transaction_control=transaction_control,
        segment_index=segment_index,
        segment_id=segment_id,
    )
    return Finding(
        severity=severity, code=code, message=message, source=source, element=element, value=value, expected=expected
    )


def _file_finding(result: GuideValidation, severity: Severity, code: str, message: str) -> Finding:
    return Finding(
        severity=severity, code=code, message=message, source=Source(file=result.file, document_id=result.document_id)
    )
