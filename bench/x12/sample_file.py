"""Write large X12 files for the benchmark from the test builders' 837P and 835 transactions.

The builder bodies are extended with the segments the 5010 implementation guides require (contact,
addresses, other-payer information), so that validating and model-building readers accept them.
All data is fake; claim ids and control numbers are unique across the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.code.x12.x12_builders import PROFESSIONAL_BODY, REMITTANCE_BODY, interchange, isa_segment, render_interchange, transaction

TRANSACTIONS_PER_INTERCHANGE = 50


def _with_required_segments(body: list[str], additions: dict[str, list[str]]) -> list[str]:
    # ``additions`` maps a segment of the body to the segments inserted right after it.
    result = []
    for segment in body:
        result.append(segment)
        result.extend(additions.get(segment, []))
    return result


CLAIM_BODY = _with_required_segments(
    # The subscriber is the patient, so HL04 states that the subscriber level has no child level.
    # The second HI is dropped because the 837P map of pyx12 has no place for an HI that starts
    # with ABF (other diagnosis) after the one with the principal diagnosis.
    [
        "HL*2*1*22*0" if segment == "HL*2*1*22*1" else segment
        for segment in PROFESSIONAL_BODY
        if segment != "HI*ABF:R50.9"
    ],
    {
        "NM1*41*2*TEST BILLING*****46*TB1": ["PER*IC*CONTACT DESK*TE*5555551234"],
        "NM1*85*2*TEST CLINIC*****XX*1234567893": ["N3*100 MAIN ST", "N4*SPRINGFIELD*IL*627010001"],
        "AMT*D*80.00": ["OI***Y***Y"],
        "CAS*CO*45*10": ["DTP*573*D8*20240115"],
    },
)
"""An 837P transaction body that pyx12 validates without errors."""

REMITTANCE_BODY_COMPLETE = _with_required_segments(
    # The builder's first claim carries claim-level adjustments on top of balanced line-level ones;
    # they are dropped so that the claim balances, as model-building readers require.
    [segment for segment in REMITTANCE_BODY if segment != "CAS*CO*45*20.00**253*2.00**97*8.00"],
    {
        "N1*PR*ACME HEALTH": ["N3*1 PAYER WAY", "N4*HARTFORD*CT*061010001"],
        "REF*2U*PAYER01": ["PER*BL*TECH SUPPORT*TE*5555550000"],
    },
)
"""An 835 transaction body with the payer address and technical contact the guide requires."""


def _claim_interchange(number: int) -> str:
    control = f"{number:09d}"
    transactions = []
    for index in range(TRANSACTIONS_PER_INTERCHANGE):
        claim_id = f"C{number:07d}{index:03d}"
        body = [segment.replace("CLAIM001", claim_id) for segment in CLAIM_BODY]
        transactions.append(transaction(body, control=f"{index + 1:04d}", reference="005010X222A1"))
    return render_interchange(interchange(transactions, control=control, group_control=str(number), isa=isa_segment(control)))


def _remittance_interchange(number: int) -> str:
    control = f"{number:09d}"
    transactions = []
    for index in range(TRANSACTIONS_PER_INTERCHANGE):
        suffix = f"{number:07d}{index:03d}"
        body = [
            segment.replace("CLAIM001", f"C{suffix}").replace("CLAIM002", f"D{suffix}").replace("TRACE001", f"T{suffix}")
            for segment in REMITTANCE_BODY_COMPLETE
        ]
        transactions.append(transaction(body, "835", control=f"{index + 1:04d}", reference="005010X221A1"))
    segments = interchange(
        transactions, version="005010X221A1", functional_id="HP", control=control, group_control=str(number), isa=isa_segment(control)
    )
    return render_interchange(segments)


def write_sample_file(path: Path, target_bytes: int, kinds: tuple[str, ...] = ("837", "835")) -> int:
    """Write interchanges of ``kinds`` in turn until the file has at least ``target_bytes``; return its size."""
    builders = {"837": _claim_interchange, "835": _remittance_interchange}
    written = 0
    number = 1
    with path.open("w", encoding="ascii", newline="") as handle:
        while written < target_bytes:
            for kind in kinds:
                text = builders[kind](number)
                handle.write(text)
                written += len(text)
                number += 1
    return os.path.getsize(path)
