"""Write simulated claims as 837P (005010X222A1) files.

One file contains one organisation's batch of one day. Claims are split into transaction sets of at
most ``max_claims_per_transaction`` claims, each with one billing provider (HL 20) and one
subscriber (HL 22) per claim, the patient being the subscriber. Names are numbered placeholders.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from training.simulator.claims import SimClaim
from training.simulator.world import Organisation
from training.simulator.x12_writer import (
    COMPONENT_SEPARATOR as C,
    Envelope,
    format_amount,
    format_date,
    format_segment as seg,
    write_interchange,
)

__all__ = ["CLEARINGHOUSE_ID", "claim_segments", "write_claim_file"]

logger = logging.getLogger(__name__)

CLEARINGHOUSE_ID = "SIMCLEARINGHSE"
CLEARINGHOUSE_NAME = "SIMULATED CLEARINGHOUSE"


def _diagnosis_element(index: int, code: str) -> str:
    # The first diagnosis is the principal one (ABK), the rest are other diagnoses (ABF).
    qualifier = "ABK" if index == 0 else "ABF"
    return f"{qualifier}{C}{code.replace('.', '')}"


def claim_segments(claim: SimClaim, hl_parent: int, hl_number: int) -> list[str]:
    """Return the subscriber HL, SBR, names, CLM and service line segments of one claim."""
    patient = claim.patient
    payer = claim.payer
    total = claim.written_total if claim.written_total is not None else claim.total_charge
    segments = [
        seg("HL", str(hl_number), str(hl_parent), "22", "0"),
        seg("SBR", "P", "18", "", "", "", "", "", "", payer.filing_indicator),
        seg("NM1", "IL", "1", "DOE", f"PATIENT{patient.number:05d}", "", "", "", "MI", patient.member_id),
        seg("N3", f"{100 + patient.number % 900} SIMULATED WAY"),
        seg("N4", "SPRINGFIELD", "IL", "627010000"),
        seg("DMG", "D8", format_date(patient.birth_date), patient.sex),
        seg("NM1", "PR", "2", payer.name, "", "", "", "", "PI", payer.payer_id),
        seg(
            "CLM",
            claim.claim_id,
            format_amount(total),
            "",
            "",
            f"{claim.place_of_service}{C}B{C}1",
            "Y",
            "A",
            "Y",
            "Y",
        ),
    ]
    if claim.prior_auth:
        segments.append(seg("REF", "G1", claim.prior_auth))
    segments.append(
        seg("HI", *(_diagnosis_element(index, code) for index, code in enumerate(claim.diagnoses)))
    )
    segments.append(
        seg(
            "NM1",
            "82",
            "1",
            "PROVIDER",
            f"DOC{claim.provider.number:04d}",
            "",
            "",
            "",
            "XX",
            claim.rendering_npi_written,
        )
    )
    segments.append(seg("PRV", "PE", "PXC", claim.provider.taxonomy))
    for line in claim.lines:
        pointers = C.join(str(pointer) for pointer in line.pointers)
        segments.extend(
            [
                seg("LX", str(line.number)),
                seg(
                    "SV1",
                    f"HC{C}{line.code}",
                    format_amount(line.charge),
                    "UN",
                    str(line.units),
                    "",
                    "",
                    pointers,
                ),
                seg("DTP", "472", "D8", format_date(line.service_date)),
                seg("REF", "6R", line.control),
            ]
        )
    return segments


def _transaction_body(
    organisation: Organisation, claims: Sequence[SimClaim], batch_id: str, created: dt.datetime
) -> list[str]:
    body = [
        seg("BHT", "0019", "00", batch_id, format_date(created.date()), created.strftime("%H%M"), "CH"),
        seg("NM1", "41", "2", organisation.name, "", "", "", "", "46", organisation.submitter_id),
        seg("PER", "IC", "BILLING OFFICE", "TE", "5555550100"),
        seg("NM1", "40", "2", CLEARINGHOUSE_NAME, "", "", "", "", "46", CLEARINGHOUSE_ID),
        seg("HL", "1", "", "20", "1"),
        seg("NM1", "85", "2", organisation.name, "", "", "", "", "XX", organisation.npi),
        seg("N3", "100 SIMULATED PLAZA"),
        seg("N4", "SPRINGFIELD", "IL", "627010000"),
        seg("REF", "EI", organisation.tax_id),
    ]
    for index, claim in enumerate(claims, start=2):
        body.extend(claim_segments(claim, hl_parent=1, hl_number=index))
    return body


def _chunks(claims: Sequence[SimClaim], size: int) -> Iterator[Sequence[SimClaim]]:
    for start in range(0, len(claims), size):
        yield claims[start : start + size]


def write_claim_file(
    path: Path,
    organisation: Organisation,
    claims: Sequence[SimClaim],
    created: dt.datetime,
    interchange_control: int,
    max_claims_per_transaction: int,
) -> None:
    """Write one 837P file; the interchange and group share ``interchange_control``."""
    envelope = Envelope(
        sender_id=organisation.submitter_id,
        receiver_id=CLEARINGHOUSE_ID,
        created=created,
        interchange_control=interchange_control,
        group_control=interchange_control,
        functional_id="HC",
        transaction_set_id="837",
        version="005010X222A1",
    )
    bodies = [
        _transaction_body(organisation, chunk, f"B{interchange_control:06d}{index:02d}", created)
        for index, chunk in enumerate(_chunks(claims, max_claims_per_transaction), start=1)
    ]
    path.write_text(write_interchange(envelope, bodies), encoding="ascii", newline="")
    for claim in claims:
        claim.claim_file = path.name
    logger.debug("wrote %s: %d claims", path.name, len(claims))
