"""The contract table: loading, lookups by date and code, and the underpayment check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import make_payment, make_service_payment
from workflow.errors import CsvError
from workflow.records import Adjustment
from workflow.remittance.contracts import (
    ContractRate,
    ContractTable,
    Tolerance,
    check_underpayment,
    load_contracts,
    write_contracts,
)
from workflow.remittance.gl import DEFAULT_GL_PATH, load_gl_mapping

EXAMPLE = Path(__file__).resolve().parents[3] / "workflow" / "remittance" / "data" / "contracts.example.csv"
HEADER = "payer_id,procedure_code,allowed_amount,percent_of_charge,effective_from,effective_to\n"


def write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "contracts.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def table(allowed: str = "95.00", **changes: object) -> ContractTable:
    values: dict[str, object] = {"payer_id": "PAYER1", "procedure_code": "99213", "allowed_amount": Decimal(allowed),
                                 "percent_of_charge": None, "effective_from": None, "effective_to": None}
    values.update(changes)
    return ContractTable([ContractRate(**values)])  # type: ignore[arg-type]


def test_shipped_example_loads():
    assert len(load_contracts(EXAMPLE)) == 4


def test_shipped_gl_mapping_loads():
    assert load_gl_mapping(DEFAULT_GL_PATH).account_for("contractual_adjustment", "CO", "253").debit == "4110"


def test_rate_follows_effective_dates(tmp_path):
    contracts = load_contracts(write(tmp_path, "P,99213,80,,2025-01-01,2025-12-31\nP,99213,90,,2026-01-01,\n"))

    assert contracts.rate_for("P", "99213", dt.date(2025, 6, 1)).allowed_amount == Decimal("80")
    assert contracts.rate_for("P", "99213", dt.date(2026, 6, 1)).allowed_amount == Decimal("90")
    assert contracts.rate_for("P", "99213", dt.date(2024, 6, 1)) is None


def test_payer_wide_rate_is_fallback(tmp_path):
    contracts = load_contracts(write(tmp_path, "P,*,,50,,\n"))

    assert contracts.rate_for("P", "70553", None).allowed_for(Decimal("300.00"), Decimal("1")) == Decimal("150.00")


def test_allowed_amount_never_exceeds_charge():
    rate = table("200.00").rate_for("PAYER1", "99213", None)

    assert rate.allowed_for(Decimal("150.00"), Decimal("1")) == Decimal("150.00")


@pytest.mark.parametrize("row, message", [
    ("P,99213,,,,\n", "exactly one"),
    ("P,99213,abc,,,\n", "not a number"),
    ("P,99213,80,,2026-13-01,\n", "not a date"),
    (",99213,80,,,\n", "required"),
    ("P,99213,,150,,\n", "above 100"),
])
def test_invalid_rows_name_file_and_line(tmp_path, row, message):
    path = write(tmp_path, row)

    with pytest.raises(CsvError) as error:
        load_contracts(path)

    assert message in str(error.value)
    assert f"{path} line 2" in str(error.value)


def test_missing_columns_are_reported(tmp_path):
    path = tmp_path / "contracts.csv"
    path.write_text("payer_id,procedure_code\nP,99213\n", encoding="utf-8")

    with pytest.raises(CsvError, match="missing columns allowed_amount"):
        load_contracts(path)


def test_written_contracts_read_back(tmp_path):
    rate = ContractRate("P", "99213", Decimal("92.50"), None, dt.date(2026, 1, 1), None)
    write_contracts([rate], tmp_path / "out.csv")

    assert load_contracts(tmp_path / "out.csv").rate_for("P", "99213", dt.date(2026, 2, 1)) == rate


def test_underpayment_reports_shortfall():
    underpayment = check_underpayment(make_payment(), table("95.00"), Tolerance())

    assert underpayment is not None
    assert underpayment.expected == Decimal("95.00")
    assert underpayment.shortfall == Decimal("15.00")


def test_patient_share_lowers_expected_payment():
    line = make_service_payment(paid=Decimal("70.00"), adjustments=(
        Adjustment("CO", "45", Decimal("5.00")), Adjustment("PR", "3", Decimal("25.00"))))
    payment = make_payment(paid=Decimal("70.00"), service_payments=(line,))

    assert check_underpayment(payment, table("95.00"), Tolerance()) is None


def test_percent_tolerance_applies_when_larger():
    tolerance = Tolerance(amount=Decimal("1.00"), percent=Decimal("20"))

    assert check_underpayment(make_payment(), table("95.00"), tolerance) is None


def test_denied_line_is_not_an_underpayment():
    payment = make_payment(paid=Decimal("0"), service_payments=(make_service_payment(paid=Decimal("0")),))

    assert check_underpayment(payment, table("95.00"), Tolerance(), skip_lines=[0]) is None


def test_reversal_is_never_underpaid():
    assert check_underpayment(make_payment(status="22"), table("95.00"), Tolerance()) is None
