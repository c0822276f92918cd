"""Golden tests on the public X12 samples in ../shared/data/x12 (skipped where it is absent).

Expected counts and totals were worked out from the files themselves, by summing CLP03/CLP04,
BPR02 and CLM02 with a plain text split, independently of the reader.
"""

from __future__ import annotations

import collections
import csv
import re
from decimal import Decimal
from pathlib import Path

import pytest

from features.x12 import read_x12
from workflow.errors import NotX12Error
from workflow.records import Claim, ClaimPayment, Finding, Payment, ProviderAdjustment, Record

SHARED_X12 = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "x12"

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(not SHARED_X12.is_dir(), reason=f"reference samples not found at {SHARED_X12}"),
]

NOT_X12_FILES = {
    "albmarin__badX12/bad_file.edi",
    "databricks-industry-solutions__x12-edi-parser/malformed_files/CC_837I_EDI.txt",
    "imsweb__x12-parser/x12_no_isa_line.txt",
    "keironstoddart__edi-835-parser/blue_cross_nc_sample.txt",
}
"""Files with no ISA header: plain text, or X12 that starts at GS or ST."""

JUNK_AMOUNT_FILES = {
    "hzbarcea__x12-parser/example835One.txt",
    "hzbarcea__x12-parser/example835SpecialCharsOne.txt",
    "jdavisp3__TigerShark/sample_835.txt",
}
"""Negative samples whose CLP amounts are empty or text: no claim payment can be built from them."""


def sample_files() -> list[str]:
    if not SHARED_X12.is_dir():
        return []
    return sorted(
        str(path.relative_to(SHARED_X12)) for path in SHARED_X12.rglob("*") if path.is_file() and path.name != "SOURCES.tsv"
    )


def read_sample(relative: str) -> list[Record]:
    return list(read_x12(SHARED_X12 / relative))


def of_type(records: list[Record], kind: type) -> list:
    return [record for record in records if isinstance(record, kind)]


@pytest.mark.parametrize("relative", sample_files())
def test_sample_reads_without_exception(relative: str) -> None:
    try:
        records = read_sample(relative)
    except NotX12Error:
        assert relative in NOT_X12_FILES, f"{relative} raised NotX12Error"
        return
    assert relative not in NOT_X12_FILES
    assert all(record.source.file.endswith(relative) for record in records)


def source_rows() -> list[dict[str, str]]:
    if not SHARED_X12.is_dir():
        return []
    with (SHARED_X12 / "SOURCES.tsv").open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t") if row["local_path"] not in NOT_X12_FILES | JUNK_AMOUNT_FILES]


@pytest.mark.parametrize("row", source_rows(), ids=lambda row: row["local_path"])
def test_claim_counts_match_sources(row: dict[str, str]) -> None:
    stated_count = re.search(r"(\d+) claims", row["description"])
    stated_statuses = re.search(r"CLP02=((?:[^;\s/]*:\d+/?)+)", row["description"])
    if stated_count is None and stated_statuses is None:
        pytest.skip("SOURCES.tsv states no claim count for this file")

    records = read_sample(row["local_path"])

    if stated_count is not None:
        assert len(of_type(records, Claim)) + len(of_type(records, ClaimPayment)) == int(stated_count.group(1))
    if stated_statuses is not None:
        pairs = (part.rsplit(":", 1) for part in stated_statuses.group(1).strip("/").split("/"))
        expected = {status: int(count) for status, count in pairs}
        assert dict(collections.Counter(c.status for c in of_type(records, ClaimPayment))) == expected


def test_nth_4010_era_totals() -> None:
    records = read_sample("Inteligenz__X12Parser/_835/_4010/FromNth/835_DeIdent_01.dat")
    payments = of_type(records, ClaimPayment)
    assert collections.Counter(p.status for p in payments) == {"1": 51, "2": 26, "22": 19}
    assert sum(p.charge for p in payments) == Decimal("111813.01")
    assert sum(p.paid for p in payments) == Decimal("66417.62")
    assert sum(len(p.service_payments) for p in payments) == 365
    assert all(p.charge < 0 for p in payments if p.status == "22")
    assert of_type(records, Payment)[0].amount == Decimal("99999.99")


def test_nebraska_5010_three_interchanges() -> None:
    records = read_sample("Inteligenz__X12Parser/_835/_5010/ExampleFromNth.txt")
    payments = of_type(records, ClaimPayment)
    assert len({p.source.interchange_control for p in payments}) == 3
    assert collections.Counter(p.status for p in payments) == {"1": 39, "2": 1, "4": 16}
    assert sum(p.charge for p in payments) == Decimal("58699.44")
    assert sum(p.paid for p in payments) == Decimal("7327.04")
    assert sum(p.amount for p in of_type(records, Payment)) == Decimal("11482.11")
    assert of_type(records, Finding) == []


def test_line_endings_do_not_change_records() -> None:
    lf = read_sample("Inteligenz__X12Parser/_835/_5010/ExampleFromNth.txt")
    crlf = read_sample("Inteligenz__X12Parser/_835/_5010/FromNth/835_WithMultipleInterchanges.txt")
    assert [(r.claim_id, r.paid, r.source.segment_index) for r in of_type(lf, ClaimPayment)] == [
        (r.claim_id, r.paid, r.source.segment_index) for r in of_type(crlf, ClaimPayment)
    ]


def test_concatenated_interchanges_totals() -> None:
    records = read_sample("tastypackets__x12-parser/profee-multiple.edi")
    payments = of_type(records, ClaimPayment)
    assert len(of_type(records, Payment)) == 156
    assert sum(p.charge for p in payments) == Decimal("15990.00")
    assert sum(p.paid for p in payments) == Decimal("7137.00")


def test_nth_4010_professional_totals() -> None:
    records = read_sample("Inteligenz__X12Parser/_837P/_4010/FromNth/837_DeIdent_01.dat")
    claims = of_type(records, Claim)
    assert len(claims) == 143
    assert sum(c.total_charge for c in claims) == Decimal("125975.34")
    assert sum(len(c.service_lines) for c in claims) == 235
    assert {c.claim_type for c in claims} == {"837P"}


def test_institutional_batch_totals() -> None:
    claims = of_type(read_sample("Inteligenz__X12Parser/_837I/_4010/FromSwreed/Batch1.txt"), Claim)
    assert sum(c.total_charge for c in claims) == Decimal("139148.17")
    assert sum(len(c.service_lines) for c in claims) == 182
    assert {c.claim_type for c in claims} == {"837I"}


def test_many_claims_in_one_transaction() -> None:
    records = read_sample("imsweb__x12-parser/x12_many_claims.txt")
    assert len(of_type(records, Claim)) == 820
    assert [f.code for f in of_type(records, Finding)] == ["x12.se_count_mismatch"]


def test_newline_terminated_file() -> None:
    (claim,) = of_type(read_sample("Inteligenz__X12Parser/_837P/_5010/ST1309-XX.txt"), Claim)
    assert claim.total_charge == Decimal("360")
    assert len(claim.service_lines) == 2


def test_odd_separators_file() -> None:
    claims = of_type(read_sample("Silvenga__vscode-edi-x12-support/odd-separator.edi"), Claim)
    assert sum(c.total_charge for c in claims) == Decimal("139.95")


def test_envelope_mismatches_in_negative_sample() -> None:
    codes = {f.code for f in of_type(read_sample("albmarin__badX12/error_validation.edi"), Finding)}
    assert {"x12.se_count_mismatch", "x12.ge_count_mismatch", "x12.iea_count_mismatch"} <= codes


def test_plb_totals_in_databricks_sample() -> None:
    adjustments = of_type(read_sample("databricks-industry-solutions__x12-edi-parser/835/sample.txt"), ProviderAdjustment)
    assert len(adjustments) == 6
    assert sum(a.amount for a in adjustments) == Decimal("-1812.27")
