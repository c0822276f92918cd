"""The operator's contract table and the underpayment check built on it.

The table is a CSV with one row per payer, procedure code and period::

    payer_id,procedure_code,allowed_amount,percent_of_charge,effective_from,effective_to
    PAYER01,99213,92.50,,2026-01-01,
    PAYER01,*,,55,2026-01-01,2026-12-31

``allowed_amount`` is the allowed amount per unit in dollars; ``percent_of_charge`` (0 to 100)
sets the allowed amount as a share of the line charge instead. Exactly one of the two is set.
``procedure_code`` ``*`` is the payer's rate for every code without a row of its own. An empty
``effective_to`` means open-ended. The allowed amount never exceeds the line charge.

Expected payment of a line = contract allowed amount - the line's PR adjustments (deductible,
coinsurance, copay, which the patient owes) - CO-253 (sequestration, which statute deducts).
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from workflow.errors import CsvError
from workflow.records import ClaimPayment, ServicePayment

logger = logging.getLogger(__name__)

__all__ = [
    "CONTRACT_COLUMNS",
    "ContractRate",
    "ContractTable",
    "Tolerance",
    "Underpayment",
    "check_underpayment",
    "load_contracts",
    "write_contracts",
]

ZERO = Decimal("0")
CENT = Decimal("0.01")
ANY_CODE = "*"
CONTRACT_COLUMNS = ("payer_id", "procedure_code", "allowed_amount", "percent_of_charge", "effective_from", "effective_to")
STATUTORY_REDUCTIONS = frozenset({("CO", "253")})
PAYABLE_STATUSES = frozenset({"1", "2", "3", "19", "20", "21"})


@dataclass(frozen=True, slots=True)
class ContractRate:
    """One row of the contract table."""

    payer_id: str
    procedure_code: str
    allowed_amount: Decimal | None
    percent_of_charge: Decimal | None
    effective_from: dt.date | None
    effective_to: dt.date | None

    def covers(self, day: dt.date | None) -> bool:
        """True when ``day`` falls in the rate's period (an unknown day matches any period)."""
        if day is None:
            return True
        after_start = self.effective_from is None or self.effective_from <= day
        before_end = self.effective_to is None or day <= self.effective_to
        return after_start and before_end

    def allowed_for(self, charge: Decimal, units: Decimal) -> Decimal:
        """The allowed amount for a line, capped at its charge."""
        if self.allowed_amount is not None:
            allowed = (self.allowed_amount * units).quantize(CENT)
        else:
            assert self.percent_of_charge is not None
            allowed = (charge * self.percent_of_charge / 100).quantize(CENT)
        return min(allowed, charge)


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far below the expected payment a payment may fall before it counts as underpaid.

    The larger of ``amount`` (dollars) and ``percent`` (0 to 100) of the expected payment applies.
    """

    amount: Decimal = Decimal("1.00")
    percent: Decimal = Decimal("1")

    def of(self, expected: Decimal) -> Decimal:
        """The tolerance in dollars for an expected payment."""
        return max(self.amount, (abs(expected) * self.percent / 100).quantize(CENT))


class ContractTable:
    """Contract rates looked up by payer, procedure code and date of service."""

    def __init__(self, rates: Iterable[ContractRate] = (), source: str = "<memory>") -> None:
        self.source = source
        self._rates: dict[tuple[str, str], list[ContractRate]] = defaultdict(list)
        for rate in rates:
            self._rates[(rate.payer_id, rate.procedure_code)].append(rate)

    def __len__(self) -> int:
        return sum(len(rates) for rates in self._rates.values())

    def rate_for(self, payer_id: str | None, procedure_code: str | None, day: dt.date | None) -> ContractRate | None:
        """Return the rate in force on ``day``; the latest start wins where periods overlap."""
        if not payer_id or not procedure_code:
            return None
        for code in (procedure_code, ANY_CODE):
            covering = [rate for rate in self._rates.get((payer_id, code), ()) if rate.covers(day)]
            if covering:
                return max(covering, key=lambda rate: rate.effective_from or dt.date.min)
        return None


def _parse_amount(text: str, column: str, where: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise CsvError(f"{where}: {column} {text!r} is not a number; write it like 92.50") from None
    if not value.is_finite() or value < 0:
        raise CsvError(f"{where}: {column} {text!r} is invalid; use a number of 0 or more")
    return value


def _parse_date(text: str, column: str, where: str) -> dt.date | None:
    if not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CsvError(f"{where}: {column} {text!r} is not a date; write it as YYYY-MM-DD") from None


def _rate_from_row(row: dict[str, Any], where: str) -> ContractRate:
    payer_id = (row.get("payer_id") or "").strip()
    code = (row.get("procedure_code") or "").strip()
    if not payer_id or not code:
        raise CsvError(f"{where}: payer_id and procedure_code are required; use * as the code for a payer-wide rate")
    allowed = _parse_amount(row.get("allowed_amount") or "", "allowed_amount", where)
    percent = _parse_amount(row.get("percent_of_charge") or "", "percent_of_charge", where)
    if (allowed is None) == (percent is None):
        raise CsvError(f"{where}: set exactly one of allowed_amount and percent_of_charge")
    if percent is not None and percent > 100:
        raise CsvError(f"{where}: percent_of_charge {percent} is above 100; write 55 for 55 %")
    start = _parse_date(row.get("effective_from") or "", "effective_from", where)
    end = _parse_date(row.get("effective_to") or "", "effective_to", where)
    if start and end and end < start:
        raise CsvError(f"{where}: effective_to {end} is before effective_from {start}")
    return ContractRate(payer_id, code, allowed, percent, start, end)


def load_contracts(path: str | Path) -> ContractTable:
    """Read a contract CSV; raises CsvError naming the file, the line and the value at fault."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in CONTRACT_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CsvError(
                    f"{path}: missing columns {', '.join(missing)}; the header must be {','.join(CONTRACT_COLUMNS)}"
                )
            rates = [_rate_from_row(row, f"{path} line {reader.line_num}") for row in reader]
    except OSError as error:
        raise CsvError(f"{path}: cannot read the contract table: {error.strerror or error}") from error
    logger.info("loaded %d contract rates from %s", len(rates), path)
    return ContractTable(rates, source=str(path))


def write_contracts(rates: Iterable[ContractRate], path: str | Path) -> None:
    """Write rates in the CSV format that :func:`load_contracts` reads."""
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CONTRACT_COLUMNS)
        for rate in rates:
            writer.writerow([
                rate.payer_id, rate.procedure_code,
                "" if rate.allowed_amount is None else str(rate.allowed_amount),
                "" if rate.percent_of_charge is None else str(rate.percent_of_charge),
                "" if rate.effective_from is None else rate.effective_from.isoformat(),
                "" if rate.effective_to is None else rate.effective_to.isoformat(),
            ])


@dataclass(frozen=True, slots=True)
class Underpayment:
    """A claim payment below its contract: the amounts behind the ``payment.underpaid`` exception."""

    expected: Decimal
    paid: Decimal
    tolerance: Decimal
    lines: tuple[dict[str, str], ...]

    @property
    def shortfall(self) -> Decimal:
        """How much less than expected the payer paid."""
        return self.expected - self.paid


def _units(service: ServicePayment) -> Decimal:
    return service.units_paid or service.original_units or Decimal("1")


def _expected_line(payment: ClaimPayment, service: ServicePayment, contracts: ContractTable) -> Decimal | None:
    code = service.original_procedure_code or service.procedure_code
    day = service.service_date_from or payment.service_date or payment.payment_date
    rate = contracts.rate_for(payment.payer_id, code, day)
    if rate is None:
        return None
    deducted = sum(
        (adj.amount for adj in service.adjustments if adj.group == "PR" or (adj.group, adj.reason) in STATUTORY_REDUCTIONS),
        ZERO,
    )
    return rate.allowed_for(service.charge, _units(service)) - deducted


def check_underpayment(
    payment: ClaimPayment, contracts: ContractTable, tolerance: Tolerance, skip_lines: Iterable[int] = ()
) -> Underpayment | None:
    """Compare a claim payment with its contract; return the underpayment, or None when paid in full.

    Only lines with a contract rate count, and ``skip_lines`` (denied lines, which are denial
    exceptions of their own) are left out. Reversals and denials are never underpayments.
    """
    if payment.status not in PAYABLE_STATUSES or not len(contracts):
        return None
    skipped = set(skip_lines)
    expected_total = paid_total = ZERO
    lines: list[dict[str, str]] = []
    for index, service in enumerate(payment.service_payments):
        if index in skipped:
            continue
        expected = _expected_line(payment, service, contracts)
        if expected is None or expected <= ZERO:
            continue
        expected_total += expected
        paid_total += service.paid
        lines.append({
            "procedure_code": service.procedure_code or "",
            "expected": str(expected),
            "paid": str(service.paid),
            "shortfall": str(expected - service.paid),
        })
    if not lines:
        return None
    allowed_gap = tolerance.of(expected_total)
    if paid_total >= expected_total - allowed_gap:
        return None
    return Underpayment(expected_total, paid_total, allowed_gap, tuple(lines))
