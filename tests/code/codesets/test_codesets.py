"""Code set lookups: ICD-10-CM, place of service, type of bill, CARC/RARC and payer tables."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from features.codesets import (
    DATA_DIR,
    carc_category,
    demographic_edits_for,
    icd10_status,
    import_icd10_order_file,
    import_official_codes,
    payer_kind,
    place_of_service,
    prior_auth_required,
    rarc_category,
    timely_filing_limit,
    type_of_bill,
)
from workflow.errors import CsvError, InputError
from workflow.taxonomy import EXCEPTION_TYPES

ALLOWED_CATEGORIES = set(EXCEPTION_TYPES) | {"contractual", "patient_responsibility", "other"}


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("E119", "billable"),
        ("E11.9", "billable"),
        (" e11.9 ", "billable"),
        ("E11", "header"),
        ("S72001", "header"),
        ("S72.001A", "billable"),
        ("ZZZ99", "unknown"),
        ("A00-A09", "unknown"),
        ("", "unknown"),
    ],
)
def test_icd10_status_classifies_code(code: str, status: str) -> None:
    assert icd10_status(code, dt.date(2026, 5, 1)) == status


def test_icd10_dated_release_used(empty_overlay: Path, tmp_path: Path) -> None:
    order_file = tmp_path / "icd10cm_order_2099.txt"
    order_file.write_text(
        "00001 A00     0 Cholera short                                                Cholera long\n"
        "00002 A000    1 Cholera variant short                                        Cholera variant long\n",
        encoding="utf-8",
    )
    import_icd10_order_file(order_file, dt.date(2099, 10, 1))
    assert icd10_status("A000", dt.date(2099, 10, 1)) == "billable"
    assert icd10_status("E119", dt.date(2099, 10, 1)) == "unknown"
    assert icd10_status("E119", dt.date(2099, 9, 30)) == "billable"


def test_icd10_order_file_rejects_other_text(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not an order file\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1"):
        import_icd10_order_file(bad, dt.date(2099, 10, 1))


def test_place_of_service_dates() -> None:
    telehealth_home = place_of_service("10")
    assert telehealth_home is not None
    assert not telehealth_home.is_effective(dt.date(2021, 12, 31))
    assert telehealth_home.is_effective(dt.date(2022, 1, 1))
    assert place_of_service("30") is None


def test_type_of_bill_ignores_frequency_digit() -> None:
    assert type_of_bill("0131") == type_of_bill("13")
    assert type_of_bill("19") is None


def test_shipped_place_of_service_covers_reference(shared_codesets: Path) -> None:
    with (shared_codesets / "place_of_service.tsv").open(encoding="utf-8") as handle:
        reference = {row["code"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}
    shipped = {row["code"] for row in csv.DictReader((DATA_DIR / "place_of_service.csv").open(encoding="utf-8"))}
    assert shipped == reference


@pytest.mark.parametrize("kind", ["carc", "rarc"])
def test_category_maps_use_known_labels(kind: str) -> None:
    with (DATA_DIR / f"{kind}_categories.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["category"] for row in rows} <= ALLOWED_CATEGORIES
    assert max(len(row["wording"].split()) for row in rows) <= 8


def test_carc_category_returns_mapping() -> None:
    info = carc_category("197")
    assert info is not None
    assert info.category == "authorization"
    assert info.description is None


def test_rarc_category_ignores_case() -> None:
    info = rarc_category("n290")
    assert info is not None
    assert info.code == "N290"


@pytest.mark.parametrize("code", ["9999", "", "ZZ1"])
def test_unknown_remittance_code_returns_none(code: str) -> None:
    assert carc_category(code) is None
    assert rarc_category(code) is None


def test_official_carc_import_adds_descriptions(tmp_path: Path) -> None:
    official = tmp_path / "carc.csv"
    official.write_text(
        "code,description,start_date,stop_date\n"
        "16,Fake official text for 16,1995-01-01,\n"
        "X99,Fake code without a category,2020-01-01,2021-01-01\n",
        encoding="utf-8",
    )
    _, count = import_official_codes(official, "carc")

    assert count == 2
    mapped = carc_category("16")
    assert mapped is not None
    assert mapped.description == "Fake official text for 16"
    assert mapped.category == "missing_information"
    unmapped = carc_category("X99")
    assert unmapped is not None
    assert unmapped.category == "other"
    assert not unmapped.is_active(dt.date(2021, 1, 1))


def test_official_import_reads_reference_tsv(shared_codesets: Path) -> None:
    _, count = import_official_codes(shared_codesets / "rarc.tsv", "rarc")
    assert count > 1000
    info = rarc_category("N290")
    assert info is not None
    assert info.description


def test_official_import_rejects_missing_columns(tmp_path: Path) -> None:
    official = tmp_path / "carc.csv"
    official.write_text("reason,text\n16,x\n", encoding="utf-8")
    with pytest.raises(CsvError, match="code or description"):
        import_official_codes(official, "carc")


@pytest.mark.parametrize(
    ("filing_indicator", "kind"),
    [("MB", "medicare"), ("MA", "medicare"), ("16", "medicare_advantage"), ("MC", "medicaid"), ("CI", "commercial"), (None, "other")],
)
def test_payer_kind_from_filing_indicator(filing_indicator: str | None, kind: str) -> None:
    assert payer_kind("FAKEPAYER", filing_indicator) == kind


def test_payer_directory_overlay_wins(empty_overlay: Path) -> None:
    empty_overlay.mkdir(parents=True)
    (empty_overlay / "payer_directory.csv").write_text("payer_id,payer_kind\nFAKEPAYER,medicaid\n", encoding="utf-8")
    assert payer_kind("FAKEPAYER", "CI") == "medicaid"


def test_payer_directory_rejects_unknown_kind(empty_overlay: Path) -> None:
    empty_overlay.mkdir(parents=True)
    (empty_overlay / "payer_directory.csv").write_text("payer_id,payer_kind\nFAKEPAYER,cash\n", encoding="utf-8")
    with pytest.raises(CsvError, match="unknown payer_kind 'cash'"):
        payer_kind("FAKEPAYER")


def test_timely_filing_limit_by_kind() -> None:
    medicare = timely_filing_limit("medicare")
    assert medicare is not None
    assert medicare.days == 365
    assert timely_filing_limit("other") is None


def test_prior_auth_rule_matches_range() -> None:
    assert prior_auth_required("ANY", "commercial", "70552", dt.date(2024, 1, 1))
    assert not prior_auth_required("ANY", "commercial", "70554", dt.date(2024, 1, 1))
    assert not prior_auth_required("ANY", "medicaid", "70552", dt.date(2024, 1, 1))


def test_prior_auth_overlay_adds_payer_rule(empty_overlay: Path) -> None:
    (empty_overlay / "payer_rules").mkdir(parents=True)
    (empty_overlay / "payer_rules" / "prior_auth_required.csv").write_text(
        "payer_id,payer_kind,procedure_from,procedure_to,effective_from,effective_to\n"
        "FAKEPAYER,,J1100,J1100,2024-01-01,2024-12-31\n",
        encoding="utf-8",
    )
    assert prior_auth_required("FAKEPAYER", "medicaid", "J1100", dt.date(2024, 6, 1))
    assert not prior_auth_required("FAKEPAYER", "medicaid", "J1100", dt.date(2025, 1, 1))
    assert not prior_auth_required("OTHERPAYER", "medicaid", "J1100", dt.date(2024, 6, 1))


def test_demographic_edits_cover_ranges() -> None:
    assert [edit.sex for edit in demographic_edits_for("O9A.11")] == ["F"]
    assert [edit.max_age_years for edit in demographic_edits_for("P07.10")] == [0]
    assert demographic_edits_for("E119") == []


def test_remark_list_rejected_as_carc(tmp_path):
    from features.codesets import import_official_codes
    from workflow.errors import CsvError

    remarks = tmp_path / "remarks.csv"
    remarks.write_text("code,description\nN290,fake remark\nM15,fake remark\nMA130,fake remark\n", encoding="utf-8")

    with pytest.raises(CsvError, match="--kind rarc"):
        import_official_codes(remarks, "carc", target_dir=tmp_path / "overlay")


def test_imported_list_does_not_change_feature_category(tmp_path, monkeypatch):
    from features.codesets import import_official_codes, shipped_carc_category

    official = tmp_path / "carc.csv"
    official.write_text("code,description\n45,fake text\n999,fake unmapped code\n", encoding="utf-8")
    monkeypatch.setenv("TRIAGE_CODESETS_DIR", str(tmp_path / "overlay"))
    before = (shipped_carc_category("45"), shipped_carc_category("999"))
    import_official_codes(official, "carc", target_dir=tmp_path / "overlay")

    assert (shipped_carc_category("45"), shipped_carc_category("999")) == before
    assert shipped_carc_category("999") is None
