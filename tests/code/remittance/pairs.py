"""Hand-written 837 and 835 pairs for the remittance tests; every name and id is fake.

The 837 is the professional claim ``CLAIM001`` of ``x12_builders.PROFESSIONAL_BODY`` (payer
PAYER01, patient MEM001, line 1 99213-25 for 100.50 with REF*6R LINE001, line 2 87880 for 50).
The 835 bodies below balance unless a test changes them.
"""

from __future__ import annotations

from pathlib import Path

from tests.code.x12.x12_builders import PROFESSIONAL_BODY, interchange, render_interchange, transaction

PAYMENT_HEADER = [
    "BPR*I*{amount}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20240315",
    "TRN*1*{trace}*1512345678",
    "DTM*405*20240314",
    "N1*PR*ACME HEALTH",
    "REF*2U*PAYER01",
    "N1*PE*TEST CLINIC*XX*1234567893",
    "LX*1",
]

PAID_CLAIM = [
    "CLP*CLAIM001*1*150.50*100.00*20.50*12*PCN001*11*1",
    "NM1*QC*1*DOE*JOHN****MI*MEM001",
    "SVC*HC:99213:25*100.50*70.00**1",
    "DTM*472*20240102",
    "CAS*PR*1*20.50",
    "CAS*CO*45*10.00",
    "REF*6R*LINE001",
    "SVC*HC:87880*50*30**2",
    "DTM*472*20240102",
    "CAS*CO*45*20",
]
"""CLAIM001 paid 100.00: 150.50 - 100.00 = 20.50 (PR-1) + 10.00 + 20.00 (CO-45)."""

REVERSAL = [
    "CLP*CLAIM001*22*-150.50*-100.00*-20.50*12*PCN001*11*1",
    "NM1*QC*1*DOE*JOHN****MI*MEM001",
    "SVC*HC:99213:25*-100.50*-70.00**-1",
    "DTM*472*20240102",
    "CAS*PR*1*-20.50",
    "CAS*CO*45*-10.00",
    "REF*6R*LINE001",
    "SVC*HC:87880*-50*-30**-2",
    "DTM*472*20240102",
    "CAS*CO*45*-20",
]
"""The reversal of PAID_CLAIM: every amount negated, the same CLP07."""

CORRECTED = [
    "CLP*CLAIM001*1*150.50*110.00*20.50*12*PCN002*11*1",
    "NM1*QC*1*DOE*JOHN****MI*MEM001",
    "SVC*HC:99213:25*100.50*80.00**1",
    "DTM*472*20240102",
    "CAS*PR*1*20.50",
    "REF*6R*LINE001",
    "SVC*HC:87880*50*30**2",
    "DTM*472*20240102",
    "CAS*CO*45*20",
]
"""The payment that follows the reversal: 110.00 paid."""

DENIED_CLAIM = [
    "CLP*CLAIM001*4*150.50*0*0*12*PCN003*11*1",
    "NM1*QC*1*DOE*JOHN****MI*MEM001",
    "CAS*CO*197*150.50",
    "MOA***N54",
]
"""CLAIM001 denied whole at claim level: CO-197 with the remark N54."""

PARTLY_DENIED_CLAIM = [
    "CLP*CLAIM001*1*150.50*70.00*20.50*12*PCN004*11*1",
    "NM1*QC*1*DOE*JOHN****MI*MEM001",
    "SVC*HC:99213:25*100.50*70.00**1",
    "DTM*472*20240102",
    "CAS*PR*1*20.50",
    "CAS*CO*45*10.00",
    "REF*6R*LINE001",
    "SVC*HC:87880*50*0**2",
    "DTM*472*20240102",
    "CAS*CO*50*50",
    "LQ*HE*N115",
]
"""Line 2 denied with CO-50 and the remark N115; line 1 paid."""

FORWARDED_CLAIM = [
    "CLP*CLAIM001*19*150.50*100.00*20.50*12*PCN005*11*1",
    "NM1*QC*1*DOE*JOHN****MI*MEM001",
    "SVC*HC:99213:25*100.50*70.00**1",
    "DTM*472*20240102",
    "CAS*PR*1*20.50",
    "CAS*CO*45*10.00",
    "REF*6R*LINE001",
    "SVC*HC:87880*50*30**2",
    "DTM*472*20240102",
    "CAS*CO*45*20",
]
"""PAID_CLAIM processed as primary and forwarded to the next payer (CLP02 19)."""


def claim_text(control: str = "000000101") -> str:
    """An 837P interchange with the claim CLAIM001."""
    return render_interchange(interchange([transaction(PROFESSIONAL_BODY)], control=control))


def remittance_text(
    *claims: list[str], amount: str, trace: str = "TRACE001", plb: list[str] = (), control: str = "000000201",
    line_break: str = "\n",
) -> str:
    """An 835 interchange with one transaction: the payment header, ``claims`` and ``plb`` segments."""
    header = [segment.format(amount=amount, trace=trace) for segment in PAYMENT_HEADER]
    body = header + [segment for claim in claims for segment in claim] + list(plb)
    segments = interchange([transaction(body, set_id="835")], version="005010X221A1", functional_id="HP", control=control)
    return render_interchange(segments, line_break=line_break)


def write_pair(folder: Path, *claims: list[str], amount: str, **options: object) -> tuple[Path, Path]:
    """Write the 837 and one 835 into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    claim_path = folder / "claims.837"
    claim_path.write_text(claim_text(), encoding="utf-8")
    remittance_path = folder / f"remit_{options.get('trace', 'TRACE001')}_{options.get('control', '000000201')}.835"
    remittance_path.write_text(remittance_text(*claims, amount=amount, **options), encoding="utf-8")  # type: ignore[arg-type]
    return claim_path, remittance_path
