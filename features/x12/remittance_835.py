"""Build the records of one 835 transaction: its Payment, every ClaimPayment and PLB adjustment.

Loops are tracked by the segment that opens them: N1*PR (1000A payer), N1*PE (1000B payee), LX
(2000), CLP (2100 claim), SVC (2110 service line) and PLB (provider adjustments after the claims).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from features.x12.context import Segment, TransactionContext, element_at, elements_upto, read_adjustments, split_procedure
from workflow.records import (
    Adjustment,
    ClaimPayment,
    Payment,
    ProviderAdjustment,
    Record,
    ServicePayment,
    Severity,
)

__all__ = ["read_835"]

logger = logging.getLogger(__name__)

MIA_REMARK_POSITIONS = (5, 20, 21, 22, 23, 24)
"""MIA elements that contain remark codes (RARC)."""

MOA_REMARK_POSITIONS = (3, 4, 5, 6, 7)
"""MOA elements that contain remark codes (RARC)."""


@dataclass(slots=True)
class _Header:
    segment: Segment | None = None
    amount: Decimal | None = None
    credit_debit: str | None = None
    method: str | None = None
    payment_date: dt.date | None = None
    trace_number: str | None = None
    payer_id: str | None = None
    payer_name: str | None = None
    payee_id: str | None = None
    payee_id_qualifier: str | None = None
    payee_name: str | None = None
    production_date: dt.date | None = None


@dataclass(slots=True)
class _ServiceBuilder:
    segment: Segment
    values: dict = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)
    amounts: dict[str, Decimal] = field(default_factory=dict)
    quantities: dict[str, Decimal] = field(default_factory=dict)
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass(slots=True)
class _ClaimBuilder:
    segment: Segment
    values: dict = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)
    amounts: dict[str, Decimal] = field(default_factory=dict)
    quantities: dict[str, Decimal] = field(default_factory=dict)
    services: list[_ServiceBuilder] = field(default_factory=list)
    patient_id: str | None = None
    insured_id: str | None = None
    statement_from: dt.date | None = None
    statement_to: dt.date | None = None
    received_date: dt.date | None = None


class _Reader835:
    def __init__(self, segments: list[Segment], context: TransactionContext) -> None:
        self.segments = segments
        self.context = context
        self.header = _Header()
        self.loop = "header"
        self.claims: list[_ClaimBuilder] = []
        self.plb_segments: list[Segment] = []

    def read(self) -> list[Record]:
        handlers = {
            "BPR": self._on_bpr,
            "TRN": self._on_trn,
            "DTM": self._on_dtm,
            "N1": self._on_n1,
            "REF": self._on_ref,
            "LX": self._on_lx,
            "CLP": self._on_clp,
            "NM1": self._on_nm1,
            "MIA": self._on_mia,
            "MOA": self._on_moa,
            "CAS": self._on_cas,
            "AMT": self._on_amt,
            "QTY": self._on_qty,
            "SVC": self._on_svc,
            "LQ": self._on_lq,
            "PLB": self._on_plb,
        }
        for segment in self.segments:
            handler = handlers.get(segment[1][0])
            if handler is not None:
                handler(segment)

        records: list[Record] = []
        payment = self._build_payment()
        if payment is not None:
            records.append(payment)
        for builder in self.claims:
            claim_payment = self._build_claim_payment(builder)
            if claim_payment is not None:
                records.append(claim_payment)
        for segment in self.plb_segments:
            records.extend(self._build_provider_adjustments(segment))
        return records

    # Header -------------------------------------------------------------------------------

    def _on_bpr(self, segment: Segment) -> None:
        header = self.header
        header.segment = segment
        header.amount = self.context.amount(segment, 2, skipped="the payment header")
        header.credit_debit = element_at(segment[1], 3) or None
        header.method = element_at(segment[1], 4) or None
        header.payment_date = self.context.date(segment, 16)

    def _on_trn(self, segment: Segment) -> None:
        if self.header.trace_number is None:
            self.header.trace_number = element_at(segment[1], 2) or None

    def _on_dtm(self, segment: Segment) -> None:
        qualifier = element_at(segment[1], 1)
        if self.loop == "header" and qualifier == "405":
            self.header.production_date = self.context.date(segment, 2)
        elif self.loop == "claim":
            claim = self.claims[-1]
            if qualifier == "232":
                claim.statement_from = self.context.date(segment, 2)
            elif qualifier == "233":
                claim.statement_to = self.context.date(segment, 2)
            elif qualifier == "050":
                claim.received_date = self.context.date(segment, 2)
        elif self.loop == "service":
            service = self.claims[-1].services[-1]
            if qualifier in ("472", "150"):
                service.date_from = self.context.date(segment, 2)
                if qualifier == "472":
                    service.date_to = service.date_from
            elif qualifier == "151":
                service.date_to = self.context.date(segment, 2)

    def _on_n1(self, segment: Segment) -> None:
        entity = element_at(segment[1], 1)
        if entity == "PR":
            self.loop = "payer"
            self.header.payer_name = element_at(segment[1], 2) or None
            self.header.payer_id = element_at(segment[1], 4) or None
        elif entity == "PE":
            self.loop = "payee"
            self.header.payee_name = element_at(segment[1], 2) or None
            self.header.payee_id_qualifier = element_at(segment[1], 3) or None
            self.header.payee_id = element_at(segment[1], 4) or None

    def _on_ref(self, segment: Segment) -> None:
        qualifier = element_at(segment[1], 1)
        value = element_at(segment[1], 2) or None
        if self.loop == "payer" and qualifier == "2U" and self.header.payer_id is None:
            self.header.payer_id = value
        elif self.loop == "service" and qualifier == "6R":
            self.claims[-1].services[-1].values["line_control_number"] = value

    def _on_lx(self, segment: Segment) -> None:
        self.loop = "lx"

    # Claim payments -----------------------------------------------------------------------

    def _on_clp(self, segment: Segment) -> None:
        context = self.context
        values = elements_upto(segment[1], 10)
        claim_id = values[1]
        context.claim_id = claim_id or None
        skipped = f"claim payment {claim_id!r}"
        builder = _ClaimBuilder(segment=segment)
        builder.values = {
            "claim_id": claim_id,
            "status": values[2],
            "charge": context.parse_amount(segment, 3, values[3], skipped),
            "paid": context.parse_amount(segment, 4, values[4], skipped),
            "patient_responsibility": context.parse_amount(segment, 5, values[5]),
            "filing_indicator": values[6] or None,
            "payer_claim_id": values[7] or None,
            "facility_type": values[8] or None,
            "frequency_code": values[9] or None,
        }
        self.claims.append(builder)
        self.loop = "claim"

    def _on_nm1(self, segment: Segment) -> None:
        if self.loop != "claim":
            return
        entity = element_at(segment[1], 1)
        identifier = element_at(segment[1], 9) or None
        if entity == "QC":
            self.claims[-1].patient_id = identifier
        elif entity == "IL":
            self.claims[-1].insured_id = identifier

    def _on_mia(self, segment: Segment) -> None:
        if self.loop == "claim":
            self.claims[-1].remark_codes.extend(_codes_at(segment, MIA_REMARK_POSITIONS))

    def _on_moa(self, segment: Segment) -> None:
        if self.loop == "claim":
            self.claims[-1].remark_codes.extend(_codes_at(segment, MOA_REMARK_POSITIONS))

    def _on_cas(self, segment: Segment) -> None:
        adjustments = read_adjustments(segment, self.context)
        if self.loop == "claim":
            self.claims[-1].adjustments.extend(adjustments)
        elif self.loop == "service":
            self.claims[-1].services[-1].adjustments.extend(adjustments)

    def _on_amt(self, segment: Segment) -> None:
        target = self._claim_or_service()
        amount = self.context.amount(segment, 2)
        if target is not None and amount is not None:
            target.amounts[element_at(segment[1], 1)] = amount

    def _on_qty(self, segment: Segment) -> None:
        target = self._claim_or_service()
        quantity = self.context.quantity(segment, 2)
        if target is not None and quantity is not None:
            target.quantities[element_at(segment[1], 1)] = quantity

    def _claim_or_service(self) -> _ClaimBuilder | _ServiceBuilder | None:
        if self.loop == "claim":
            return self.claims[-1]
        if self.loop == "service":
            return self.claims[-1].services[-1]
        return None

    # Service lines ------------------------------------------------------------------------

    def _on_svc(self, segment: Segment) -> None:
        if self.loop not in ("claim", "service"):
            return
        context = self.context
        values = elements_upto(segment[1], 8)
        qualifier, code, modifiers = split_procedure(context.split_components(segment, 1, values[1]))
        original = split_procedure(context.split_components(segment, 6, values[6]))
        service = _ServiceBuilder(segment=segment)
        service.values = {
            "procedure_qualifier": qualifier,
            "procedure_code": code,
            "modifiers": modifiers,
            "charge": context.parse_amount(segment, 2, values[2], "the service payment"),
            "paid": context.parse_amount(segment, 3, values[3], "the service payment"),
            "revenue_code": values[4] or None,
            "units_paid": context.parse_amount(segment, 5, values[5]),
            "original_procedure_code": original[1],
            "original_units": context.parse_amount(segment, 7, values[7]),
        }
        self.claims[-1].services.append(service)
        self.loop = "service"

    def _on_lq(self, segment: Segment) -> None:
        if self.loop == "service" and element_at(segment[1], 1) == "HE":
            code = element_at(segment[1], 2)
            if code:
                self.claims[-1].services[-1].remark_codes.append(code)

    def _on_plb(self, segment: Segment) -> None:
        self.loop = "plb"
        self.context.claim_id = None
        self.plb_segments.append(segment)

    # Building records ---------------------------------------------------------------------

    def _build_payment(self) -> Payment | None:
        header = self.header
        if header.segment is None:
            self.context.report(
                Severity.ERROR,
                "x12.missing_segment",
                "the 835 has no BPR segment, so it has no payment header; claim payments are read without one",
                None,
                expected="BPR",
            )
            return None
        if header.amount is None:
            return None
        return Payment(
            trace_number=header.trace_number,
            amount=header.amount,
            credit_debit=header.credit_debit,
            method=header.method,
            payment_date=header.payment_date,
            payer_id=header.payer_id,
            payer_name=header.payer_name,
            payee_id=header.payee_id,
            payee_id_qualifier=header.payee_id_qualifier,
            payee_name=header.payee_name,
            production_date=header.production_date,
            source=self.context.source(header.segment[0], "BPR"),
        )

    def _build_claim_payment(self, builder: _ClaimBuilder) -> ClaimPayment | None:
        values = builder.values
        if values["charge"] is None or values["paid"] is None:
            return None
        header = self.header
        services = tuple(
            service
            for service in (self._build_service(item, builder) for item in builder.services)
            if service is not None
        )
        return ClaimPayment(
            claim_id=values["claim_id"],
            status=values["status"],
            charge=values["charge"],
            paid=values["paid"],
            patient_responsibility=values["patient_responsibility"],
            filing_indicator=values["filing_indicator"],
            payer_claim_id=values["payer_claim_id"],
            facility_type=values["facility_type"],
            frequency_code=values["frequency_code"],
            patient_id=builder.patient_id or builder.insured_id,
            payer_id=header.payer_id,
            payee_id=header.payee_id,
            trace_number=header.trace_number,
            payment_date=header.payment_date,
            statement_from=builder.statement_from,
            statement_to=builder.statement_to,
            received_date=builder.received_date,
            adjustments=tuple(builder.adjustments),
            remark_codes=tuple(dict.fromkeys(builder.remark_codes)),
            amounts=dict(builder.amounts),
            quantities=dict(builder.quantities),
            service_payments=services,
            source=self.context.source(builder.segment[0], "CLP"),
        )

    def _build_service(self, service: _ServiceBuilder, claim: _ClaimBuilder) -> ServicePayment | None:
        values = service.values
        if values["charge"] is None or values["paid"] is None:
            return None
        # A line without its own dates was served on the claim's statement dates.
        date_from = service.date_from or claim.statement_from
        date_to = service.date_to or (claim.statement_to if service.date_from is None else service.date_from)
        return ServicePayment(
            procedure_qualifier=values["procedure_qualifier"],
            procedure_code=values["procedure_code"],
            modifiers=values["modifiers"],
            charge=values["charge"],
            paid=values["paid"],
            revenue_code=values["revenue_code"],
            units_paid=values["units_paid"],
            original_procedure_code=values["original_procedure_code"],
            original_units=values["original_units"],
            line_control_number=values.get("line_control_number"),
            service_date_from=date_from,
            service_date_to=date_to,
            adjustments=tuple(service.adjustments),
            remark_codes=tuple(service.remark_codes),
            amounts=dict(service.amounts),
            quantities=dict(service.quantities),
            source=self.context.source(service.segment[0], "SVC"),
        )

    def _build_provider_adjustments(self, segment: Segment) -> list[ProviderAdjustment]:
        context = self.context
        provider_id = element_at(segment[1], 1) or None
        fiscal_date = context.date(segment, 2)
        # Source is immutable, so the adjustments of one PLB segment share one.
        source = context.source(segment[0], "PLB")
        adjustments = []
        for position in range(3, min(len(segment[1]), 15), 2):
            parts = context.components(segment, position)
            if not parts or not parts[0].strip():
                continue
            reason = parts[0].strip()
            amount = context.amount(segment, position + 1, skipped=f"provider adjustment {reason}")
            if amount is None:
                continue
            reference = parts[1].strip() if len(parts) > 1 and parts[1].strip() else None
            adjustments.append(
                ProviderAdjustment(
                    provider_id=provider_id,
                    fiscal_period_date=fiscal_date,
                    reason=reason,
                    reference=reference,
                    amount=amount,
                    payer_id=self.header.payer_id,
                    trace_number=self.header.trace_number,
                    source=source,
                )
            )
        return adjustments


def _codes_at(segment: Segment, positions: tuple[int, ...]) -> list[str]:
    values = elements_upto(segment[1], positions[-1] + 1)
    return [values[position] for position in positions if values[position]]


def read_835(segments: list[Segment], context: TransactionContext) -> list[Record]:
    """Read one 835 transaction; ``segments`` run from ST to SE exclusive.

    Returns the Payment first, then the claim payments in file order, then the PLB adjustments.
    """
    return _Reader835(segments, context).read()
