"""Build :class:`~workflow.records.Claim` records from one 837 transaction (P, I or D, 4010 or 5010).

The reader walks the segments once and tracks which loop it is in. The loops are the hierarchy
(HL 20 billing provider, 22 subscriber, 23 patient), the claim (2300 and its 2310 providers), the
other payers (2320 and 2330) and the service lines (2400 to 2430). Names of people are never read.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from features.x12.context import (
    Segment,
    TransactionContext,
    element_at,
    elements_upto,
    parse_decimal,
    read_adjustments,
    split_procedure,
)
from workflow.records import Adjustment, Claim, OtherPayer, ServiceLine, Severity

__all__ = ["claim_type_of", "read_837"]

logger = logging.getLogger(__name__)

CLAIM_DATE_QUALIFIERS = frozenset(
    "431 454 304 453 439 484 455 471 314 360 361 297 296 435 096 090 091 444 050 434".split()
)
"""DTP01 qualifiers of loop 2300 kept in ``Claim.dates`` (onset, admission, discharge and so on)."""

DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF", "ABJ", "BJ", "APR", "PR", "ABN", "BN"})
"""HI qualifiers of ICD diagnosis codes: principal, other, admitting, reason for visit, external cause."""

NPI_REFERENCE_QUALIFIERS = frozenset({"XX", "HPI"})
"""REF01 qualifiers that carry an NPI in 4010 files where NM108 contains another id."""

_KIND_BY_GUIDE = {"X098": "837P", "X222": "837P", "X096": "837I", "X223": "837I", "X097": "837D", "X224": "837D"}

_KIND_BY_LINE_SEGMENT = {"SV1": "837P", "SV2": "837I", "SV3": "837D"}

_CLAIM_TYPE_SEGMENTS = frozenset({"SV1", "SV2", "SV3", "REF", "CL1"})


def kind_from_version(version: str | None) -> str | None:
    """Map an implementation guide id (``005010X222A1``, ``004010X097``) to 837P, 837I or 837D."""
    if not version:
        return None
    for guide, kind in _KIND_BY_GUIDE.items():
        if guide in version:
            return kind
    return None


def claim_type_of(segments: list[Segment], context: TransactionContext) -> str:
    """Decide whether an 837 is professional, institutional or dental.

    The service line segments (SV1, SV2, SV3) win because they are what the claim contains;
    then ST03, the 4010 REF*87 and GS08. A declared guide that disagrees with the content is
    reported, since masked or copied headers are common in test files.
    """
    # One pass over the segments collects what the decision needs: the service line kinds, the
    # first REF*87 and whether an institutional CL1 is present.
    line_kinds: set[str] = set()
    reference_87 = None
    has_cl1 = False
    for _, elements in segments:
        segment_id = elements[0]
        if segment_id not in _CLAIM_TYPE_SEGMENTS:
            continue
        if segment_id == "REF":
            if reference_87 is None and element_at(elements, 1) == "87":
                reference_87 = element_at(elements, 2)
        elif segment_id == "CL1":
            has_cl1 = True
        else:
            line_kinds.add(_KIND_BY_LINE_SEGMENT[segment_id])
    group_kind = kind_from_version(context.envelope.version)
    transaction_kind = kind_from_version(context.envelope.implementation_reference) or kind_from_version(reference_87)
    if group_kind and transaction_kind and group_kind != transaction_kind:
        context.report(
            Severity.WARNING,
            "x12.version_mismatch",
            f"GS08 {context.envelope.version!r} is an {group_kind} guide but the transaction declares "
            f"{transaction_kind}; the transaction's own declaration is used",
            segments[0] if segments else None,
            value=context.envelope.version,
            expected=transaction_kind,
        )
    declared = transaction_kind or group_kind

    content = next(iter(line_kinds)) if len(line_kinds) == 1 else None
    if content is None and has_cl1:
        content = "837I"
    if content and declared and content != declared:
        context.report(
            Severity.WARNING,
            "x12.version_mismatch",
            f"the headers declare an {declared} guide but the service lines are {content}; "
            f"read as {content}",
            segments[0] if segments else None,
            value=context.envelope.version,
            expected=content,
        )
    return content or declared or "837P"


@dataclass(slots=True)
class _Party:
    member_id: str | None = None
    birth_date: dt.date | None = None
    sex: str | None = None


@dataclass(slots=True)
class _OtherPayerBuilder:
    payer_responsibility: str | None
    filing_indicator: str | None
    payer_id: str | None = None
    payer_name: str | None = None
    paid_amount: Decimal | None = None
    adjustments: list[Adjustment] = field(default_factory=list)

    def build(self) -> OtherPayer:
        return OtherPayer(
            payer_id=self.payer_id,
            payer_name=self.payer_name,
            payer_responsibility=self.payer_responsibility,
            filing_indicator=self.filing_indicator,
            paid_amount=self.paid_amount,
            adjustments=tuple(self.adjustments),
        )


@dataclass(slots=True)
class _LineBuilder:
    line_number: int
    segment: Segment
    values: dict = field(default_factory=dict)
    adjustments: list[Adjustment] = field(default_factory=list)
    valid: bool = False


@dataclass(slots=True)
class _ClaimBuilder:
    segment: Segment
    claim_id: str
    total_charge: Decimal | None
    place_code: str | None
    frequency_code: str | None
    rendering_npi: str | None = None
    referring_npi: str | None = None
    diagnosis_codes: list[str] = field(default_factory=list)
    statement_from: dt.date | None = None
    statement_to: dt.date | None = None
    dates: dict[str, dt.date] = field(default_factory=dict)
    prior_authorization: str | None = None
    payer_claim_control_number: str | None = None
    lines: list[_LineBuilder] = field(default_factory=list)
    other_payers: list[_OtherPayerBuilder] = field(default_factory=list)


@dataclass(slots=True)
class _Hierarchy:
    """The parties of the current HL loops, which every claim below them inherits."""

    billing_npi: str | None = None
    billing_tax_id: str | None = None
    subscriber: _Party = field(default_factory=_Party)
    patient: _Party | None = None
    payer_id: str | None = None
    payer_name: str | None = None
    payer_responsibility: str | None = None
    filing_indicator: str | None = None
    relationship: str | None = None


class _Reader837:
    def __init__(self, segments: list[Segment], context: TransactionContext, claim_type: str) -> None:
        self.segments = segments
        self.context = context
        self.claim_type = claim_type
        self.version = context.envelope.implementation_reference or context.envelope.version
        self.hierarchy = _Hierarchy()
        self.level: str | None = None
        self.entity: str | None = None
        self.claim: _ClaimBuilder | None = None
        self.section = "header"
        self.submitted_on: dt.date | None = None
        self.claims: list[Claim] = []

    def read(self) -> list[Claim]:
        handlers = {
            "BHT": self._on_bht,
            "HL": self._on_hl,
            "NM1": self._on_nm1,
            "REF": self._on_ref,
            "DMG": self._on_dmg,
            "SBR": self._on_sbr,
            "CLM": self._on_clm,
            "DTP": self._on_dtp,
            "HI": self._on_hi,
            "CAS": self._on_cas,
            "AMT": self._on_amt,
            "LX": self._on_lx,
            "SV1": self._on_sv1,
            "SV2": self._on_sv2,
            "SV3": self._on_sv3,
            "SVD": self._on_svd,
        }
        for segment in self.segments:
            handler = handlers.get(segment[1][0])
            if handler is not None:
                handler(segment)
        self._finish_claim()
        return self.claims

    # Hierarchy ----------------------------------------------------------------------------

    def _on_bht(self, segment: Segment) -> None:
        # BHT04 is the transaction creation date, which every claim of the transaction shares.
        self.submitted_on = self.context.date(segment, 4)

    def _on_hl(self, segment: Segment) -> None:
        self._finish_claim()
        self.level = element_at(segment[1], 3)
        self.entity = None
        if self.level == "20":
            self.hierarchy = _Hierarchy()
        elif self.level == "22":
            billing = (self.hierarchy.billing_npi, self.hierarchy.billing_tax_id)
            self.hierarchy = _Hierarchy(billing_npi=billing[0], billing_tax_id=billing[1])
        elif self.level == "23":
            self.hierarchy.patient = _Party()

    def _on_nm1(self, segment: Segment) -> None:
        elements = segment[1]
        entity = element_at(elements, 1)
        self.entity = entity
        qualifier = element_at(elements, 8)
        identifier = element_at(elements, 9) or None
        npi = identifier if qualifier == "XX" else None

        if self.claim is None:
            self._on_hierarchy_name(entity, elements, qualifier, identifier, npi)
            return
        if self.section == "line":
            if entity == "82" and npi:
                self.claim.lines[-1].values["rendering_npi"] = npi
        elif self.section == "other_payer":
            if entity == "PR":
                payer = self.claim.other_payers[-1]
                payer.payer_id = identifier
                payer.payer_name = _organization_name(elements)
        elif entity == "82" and npi:
            self.claim.rendering_npi = npi
        elif entity == "DN" and npi:
            self.claim.referring_npi = npi

    def _on_hierarchy_name(
        self, entity: str, elements: list[str], qualifier: str, identifier: str | None, npi: str | None
    ) -> None:
        hierarchy = self.hierarchy
        if entity == "85":
            if npi:
                hierarchy.billing_npi = npi
            elif qualifier in ("24", "EI") and identifier:
                hierarchy.billing_tax_id = identifier
        elif entity == "IL":
            hierarchy.subscriber.member_id = identifier
        elif entity == "QC":
            if hierarchy.patient is None:
                hierarchy.patient = _Party()
            hierarchy.patient.member_id = identifier
        elif entity == "PR":
            hierarchy.payer_id = identifier
            hierarchy.payer_name = _organization_name(elements)

    def _on_ref(self, segment: Segment) -> None:
        qualifier = element_at(segment[1], 1)
        value = element_at(segment[1], 2) or None
        if value is None:
            return
        if qualifier in NPI_REFERENCE_QUALIFIERS:
            self._on_npi_reference(value)
            return
        if self.claim is None:
            if qualifier == "EI" and self.level == "20" and self.entity == "85":
                self.hierarchy.billing_tax_id = value
            return
        if self.section == "claim":
            if qualifier == "G1":
                self.claim.prior_authorization = value
            elif qualifier == "F8":
                self.claim.payer_claim_control_number = value
        elif self.section == "line" and qualifier == "6R":
            self.claim.lines[-1].values["line_control_number"] = value

    def _on_npi_reference(self, npi: str) -> None:
        # 4010 files may carry the NPI in a REF when NM108 contains a tax id. An NPI from NM1 wins.
        if self.claim is None:
            if self.entity == "85" and self.hierarchy.billing_npi is None:
                self.hierarchy.billing_npi = npi
        elif self.section == "line":
            if self.entity == "82":
                self.claim.lines[-1].values.setdefault("rendering_npi", npi)
        elif self.section == "claim":
            if self.entity == "82" and self.claim.rendering_npi is None:
                self.claim.rendering_npi = npi
            elif self.entity == "DN" and self.claim.referring_npi is None:
                self.claim.referring_npi = npi

    def _on_dmg(self, segment: Segment) -> None:
        if self.claim is not None:
            return
        party = self.hierarchy.patient if self.level == "23" and self.hierarchy.patient else self.hierarchy.subscriber
        party.birth_date = self.context.date(segment, 2)
        party.sex = element_at(segment[1], 3) or None

    def _on_sbr(self, segment: Segment) -> None:
        responsibility = element_at(segment[1], 1) or None
        filing = element_at(segment[1], 9) or None
        if self.claim is None:
            self.hierarchy.payer_responsibility = responsibility
            self.hierarchy.relationship = element_at(segment[1], 2) or None
            self.hierarchy.filing_indicator = filing
            return
        self.section = "other_payer"
        self.claim.other_payers.append(_OtherPayerBuilder(responsibility, filing))

    # Claim --------------------------------------------------------------------------------

    def _on_clm(self, segment: Segment) -> None:
        self._finish_claim()
        claim_id = element_at(segment[1], 1)
        self.context.claim_id = claim_id or None
        if not claim_id:
            self.context.report(
                Severity.ERROR,
                "x12.missing_element",
                "CLM01 (patient control number) is empty; the claim cannot be matched to a payment",
                segment,
                1,
                "",
                "the claim id",
            )
        place = self.context.components(segment, 5)
        self.claim = _ClaimBuilder(
            segment=segment,
            claim_id=claim_id,
            total_charge=self.context.amount(segment, 2, skipped=f"claim {claim_id!r}"),
            place_code=(place[0] or None) if place else None,
            frequency_code=(place[2] or None) if len(place) > 2 else None,
        )
        self.section = "claim"
        self.entity = None

    def _on_dtp(self, segment: Segment) -> None:
        if self.claim is None:
            return
        qualifier = element_at(segment[1], 1)
        if self.section == "line":
            if qualifier == "472":
                start, end = self.context.date_range(segment, 3)
                values = self.claim.lines[-1].values
                values["service_date_from"], values["service_date_to"] = start, end
            return
        if self.section != "claim" or qualifier not in CLAIM_DATE_QUALIFIERS:
            return
        if element_at(segment[1], 2) == "TM":
            return
        start, end = self.context.date_range(segment, 3)
        if start is not None:
            self.claim.dates[qualifier] = start
        if qualifier == "434":
            self.claim.statement_from, self.claim.statement_to = start, end

    def _on_hi(self, segment: Segment) -> None:
        if self.claim is None:
            return
        for position in range(1, len(segment[1])):
            parts = self.context.components(segment, position)
            if len(parts) >= 2 and parts[0] in DIAGNOSIS_QUALIFIERS and parts[1]:
                self.claim.diagnosis_codes.append(parts[1].replace(".", "").strip())

    def _on_cas(self, segment: Segment) -> None:
        if self.claim is None:
            return
        adjustments = read_adjustments(segment, self.context)
        if self.section == "line":
            self.claim.lines[-1].adjustments.extend(adjustments)
        elif self.claim.other_payers:
            self.claim.other_payers[-1].adjustments.extend(adjustments)

    def _on_amt(self, segment: Segment) -> None:
        if self.claim is None or self.section != "other_payer":
            return
        if element_at(segment[1], 1) == "D":
            self.claim.other_payers[-1].paid_amount = self.context.amount(segment, 2)

    # Service lines ------------------------------------------------------------------------

    def _on_lx(self, segment: Segment) -> None:
        if self.claim is None:
            return
        number_text = element_at(segment[1], 1)
        number = int(number_text) if number_text.isdigit() else len(self.claim.lines) + 1
        self.claim.lines.append(_LineBuilder(line_number=number, segment=segment))
        self.section = "line"
        self.entity = None

    def _current_line(self, segment: Segment) -> _LineBuilder | None:
        if self.claim is None:
            return None
        if self.section != "line" or not self.claim.lines or self.claim.lines[-1].valid:
            # A service line without its LX: number it after the previous one.
            self.claim.lines.append(_LineBuilder(line_number=len(self.claim.lines) + 1, segment=segment))
            self.section = "line"
        line = self.claim.lines[-1]
        line.segment = segment
        return line

    def _on_sv1(self, segment: Segment) -> None:
        line = self._current_line(segment)
        if line is None:
            return
        # SV1 is the most frequent segment of an 837P, so its elements are read in one call.
        context = self.context
        values = elements_upto(segment[1], 8)
        qualifier, code, modifiers = split_procedure(context.split_components(segment, 1, values[1]))
        pointers = context.split_components(segment, 7, values[7])
        charge = parse_decimal(values[2]) if values[2] else None
        if charge is None:
            context.parse_amount(segment, 2, values[2], f"service line {line.line_number}")
        units = parse_decimal(values[4]) if values[4] else None
        if units is None and values[4]:
            context.parse_amount(segment, 4, values[4])
        line.values.update(
            procedure_qualifier=qualifier,
            procedure_code=code,
            modifiers=modifiers,
            charge=charge,
            unit_type=values[3] or None,
            units=units,
            place_of_service=values[5] or None,
            diagnosis_pointers=tuple(int(p) for p in pointers if p.strip().isdigit()),
        )
        line.valid = True

    def _on_sv2(self, segment: Segment) -> None:
        line = self._current_line(segment)
        if line is None:
            return
        context = self.context
        qualifier, code, modifiers = split_procedure(context.components(segment, 2))
        line.values.update(
            revenue_code=element_at(segment[1], 1) or None,
            procedure_qualifier=qualifier,
            procedure_code=code,
            modifiers=modifiers,
            charge=context.amount(segment, 3, skipped=f"service line {line.line_number}"),
            unit_type=element_at(segment[1], 4) or None,
            units=context.quantity(segment, 5),
        )
        line.valid = True

    def _on_sv3(self, segment: Segment) -> None:
        line = self._current_line(segment)
        if line is None:
            return
        context = self.context
        qualifier, code, modifiers = split_procedure(context.components(segment, 1))
        pointers = context.components(segment, 11)
        line.values.update(
            procedure_qualifier=qualifier,
            procedure_code=code,
            modifiers=modifiers,
            charge=context.amount(segment, 2, skipped=f"service line {line.line_number}"),
            place_of_service=element_at(segment[1], 3) or None,
            units=context.quantity(segment, 6),
            diagnosis_pointers=tuple(int(p) for p in pointers if p.strip().isdigit()),
        )
        line.valid = True

    def _on_svd(self, segment: Segment) -> None:
        # Loop 2430 (line adjudication by a prior payer): its CAS segments follow and belong
        # to the current line, which ``_on_cas`` already handles in the line section.
        return

    # Building records ---------------------------------------------------------------------

    def _finish_claim(self) -> None:
        builder = self.claim
        self.claim = None
        self.section = "header"
        if builder is None:
            return
        try:
            if builder.total_charge is None:
                return
            self.claims.append(self._build_claim(builder))
        finally:
            self.context.claim_id = None

    def _build_claim(self, builder: _ClaimBuilder) -> Claim:
        hierarchy = self.hierarchy
        patient = hierarchy.patient
        subscriber = hierarchy.subscriber
        patient_is_subscriber = patient is None or hierarchy.relationship == "18"
        person = subscriber if patient is None else patient
        institutional = self.claim_type == "837I"
        return Claim(
            claim_id=builder.claim_id,
            claim_type=self.claim_type,
            version=self.version,
            total_charge=builder.total_charge,
            frequency_code=builder.frequency_code,
            place_of_service=None if institutional else builder.place_code,
            facility_type=builder.place_code if institutional else None,
            payer_id=hierarchy.payer_id,
            payer_name=hierarchy.payer_name,
            billing_npi=hierarchy.billing_npi,
            billing_tax_id=hierarchy.billing_tax_id,
            rendering_npi=builder.rendering_npi,
            referring_npi=builder.referring_npi,
            subscriber_id=subscriber.member_id,
            patient_id=(patient.member_id if patient and patient.member_id else None) or subscriber.member_id,
            patient_is_subscriber=patient_is_subscriber,
            patient_birth_date=person.birth_date,
            patient_sex=person.sex,
            diagnosis_codes=tuple(builder.diagnosis_codes),
            statement_from=builder.statement_from,
            statement_to=builder.statement_to,
            dates=dict(builder.dates),
            prior_authorization=builder.prior_authorization,
            payer_claim_control_number=builder.payer_claim_control_number,
            filing_indicator=hierarchy.filing_indicator,
            payer_responsibility=hierarchy.payer_responsibility,
            service_lines=tuple(self._build_lines(builder)),
            other_payers=tuple(payer.build() for payer in builder.other_payers),
            source=self.context.source(builder.segment[0], "CLM"),
            submitted_on=self.submitted_on,
        )

    def _build_lines(self, builder: _ClaimBuilder) -> list[ServiceLine]:
        lines = []
        for line in builder.lines:
            values = line.values
            if not line.valid or values.get("charge") is None:
                continue
            lines.append(
                ServiceLine(
                    line_number=line.line_number,
                    procedure_qualifier=values.get("procedure_qualifier"),
                    procedure_code=values.get("procedure_code"),
                    modifiers=values.get("modifiers", ()),
                    charge=values["charge"],
                    units=values.get("units"),
                    unit_type=values.get("unit_type"),
                    revenue_code=values.get("revenue_code"),
                    place_of_service=values.get("place_of_service"),
                    diagnosis_pointers=values.get("diagnosis_pointers", ()),
                    service_date_from=values.get("service_date_from"),
                    service_date_to=values.get("service_date_to"),
                    line_control_number=values.get("line_control_number"),
                    rendering_npi=values.get("rendering_npi"),
                    adjustments=tuple(line.adjustments),
                    source=self.context.source(line.segment[0], line.segment[1][0]),
                )
            )
        return lines


def _organization_name(elements: list[str]) -> str | None:
    # NM102 = 2 is a non-person entity (a payer or an organization); a person's name is never kept.
    if element_at(elements, 2) != "2":
        return None
    return element_at(elements, 3) or None


def read_837(segments: list[Segment], context: TransactionContext) -> list[Claim]:
    """Read the claims of one 837 transaction; ``segments`` run from ST to SE exclusive."""
    claim_type = claim_type_of(segments, context)
    return _Reader837(segments, context, claim_type).read()
