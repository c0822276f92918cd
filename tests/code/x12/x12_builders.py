"""Build small X12 interchanges for tests, with correct counts unless a test breaks them.

Segments are written with ``*`` between elements and ``:`` between components; ``render_interchange``
swaps in the delimiters a test requests. All data is fake.
"""

from __future__ import annotations

ISA_FIELDS = ["00", " " * 10, "00", " " * 10, "ZZ", "SUBMITTER".ljust(15), "ZZ", "RECEIVER".ljust(15), "240101", "1200"]


def isa_segment(
    control: str = "000000101",
    repetition: str = "^",
    version: str = "00501",
    padded: bool = True,
) -> str:
    """Return an ISA segment in ``*`` notation, without terminator; ISA16 is ``:``."""
    fields = list(ISA_FIELDS) if padded else [field.strip() for field in ISA_FIELDS]
    return "*".join(["ISA", *fields, repetition, version, control, "0", "T", ":"])


def transaction(body: list[str], set_id: str = "837", control: str = "0001", reference: str | None = None) -> list[str]:
    """Wrap ``body`` in ST and SE with the right SE01 count."""
    header = f"ST*{set_id}*{control}" + (f"*{reference}" if reference else "")
    return [header, *body, f"SE*{len(body) + 2}*{control}"]


def interchange(
    transactions: list[list[str]],
    version: str = "005010X222A1",
    functional_id: str = "HC",
    control: str = "000000101",
    group_control: str = "101",
    isa: str | None = None,
) -> list[str]:
    """Return the segments of one interchange with one functional group around ``transactions``."""
    segments = [isa or isa_segment(control), f"GS*{functional_id}*SENDER*RECEIVER*20240101*1200*{group_control}*X*{version}"]
    for segments_of_transaction in transactions:
        segments.extend(segments_of_transaction)
    segments.append(f"GE*{len(transactions)}*{group_control}")
    segments.append(f"IEA*1*{control}")
    return segments


def render_interchange(
    segments: list[str],
    element: str = "*",
    component: str = ":",
    terminator: str = "~",
    line_break: str = "\n",
) -> str:
    """Join segments with the given delimiters; ISA16 becomes ``component``."""
    # Translate both marks at once, so an element separator ``:`` is not turned into a component one.
    table = str.maketrans({"*": element, ":": component})
    rendered = []
    for segment in segments:
        if segment.startswith("ISA*"):
            rendered.append(segment[:-1].translate(str.maketrans({"*": element})) + component)
        else:
            rendered.append(segment.translate(table))
    return "".join(text + terminator + line_break for text in rendered)


PROFESSIONAL_BODY = [
    "BHT*0019*00*REF1*20240101*1200*CH",
    "NM1*41*2*TEST BILLING*****46*TB1",
    "NM1*40*2*TEST RECEIVER*****46*TR1",
    "HL*1**20*1",
    "NM1*85*2*TEST CLINIC*****XX*1234567893",
    "REF*EI*111223333",
    "HL*2*1*22*1",
    "SBR*P*18*GRP1******CI",
    "NM1*IL*1*DOE*JOHN****MI*MEM001",
    "DMG*D8*19800115*M",
    "NM1*PR*2*ACME HEALTH*****PI*PAYER01",
    "CLM*CLAIM001*150.50***11:B:1*Y*A*Y*Y",
    "DTP*431*D8*20231220",
    "REF*G1*AUTH123",
    "REF*F8*ORIG555",
    "HI*ABK:J02.9*ABF:R05",
    "HI*ABF:R50.9",
    "NM1*DN*1*REFER*RITA****XX*1111111112",
    "NM1*82*1*RENDER*RON****XX*2222222223",
    "SBR*S*01*******CI",
    "CAS*CO*45*10.00*1*253*2.50",
    "AMT*D*80.00",
    "NM1*IL*1*DOE*JOHN****MI*OTHER01",
    "NM1*PR*2*SECOND PAYER*****PI*PAYER02",
    "LX*1",
    "SV1*HC:99213:25*100.50*UN*1*11**1:2",
    "DTP*472*D8*20240102",
    "REF*6R*LINE001",
    "NM1*82*1*LINE*LARRY****XX*3333333334",
    "LX*2",
    "SV1*HC:87880*50*UN*2***3",
    "DTP*472*RD8*20240102-20240103",
    "SVD*PAYER02*40*HC:87880**2",
    "CAS*CO*45*10",
]
"""An 837P transaction body: one claim, a referring and rendering provider, one other payer, two lines."""

DEPENDENT_BODY = [
    "BHT*0019*00*REF2*20240101*1200*CH",
    "HL*1**20*1",
    "NM1*85*2*TEST CLINIC*****XX*1234567893",
    "HL*2*1*22*1",
    "SBR*P*01*******MC",
    "NM1*IL*1*DOE*JANE****MI*SUB777",
    "DMG*D8*19700101*F",
    "NM1*PR*2*STATE PLAN*****PI*MCD01",
    "HL*3*2*23*0",
    "PAT*19",
    "NM1*QC*1*DOE*JIM****MI*PAT888",
    "DMG*D8*20100505*M",
    "CLM*DEP001*75***11:B:1*Y*A*Y*Y",
    "HI*ABK:Z00.129",
    "LX*1",
    "SV1*HC:99392*75*UN*1***1",
    "DTP*472*D8*20240110",
]
"""An 837P claim for a dependent patient (HL 23 under the subscriber)."""

INSTITUTIONAL_BODY = [
    "BHT*0019*00*REF3*20240101*1200*CH",
    "HL*1**20*1",
    "NM1*85*2*TEST HOSPITAL*****XX*1234567893",
    "REF*EI*999887777",
    "HL*2*1*22*0",
    "SBR*P*18*******MB",
    "NM1*IL*1*ROE*RICHARD****MI*MBI123",
    "DMG*D8*19450301*M",
    "NM1*PR*2*MEDICARE A*****PI*MCA",
    "CLM*INST001*1200.00***11:A:7**A*Y*Y",
    "DTP*434*RD8*20240105-20240108",
    "DTP*435*DT*202401050830",
    "DTP*096*TM*1130",
    "CL1*1*1*01",
    "HI*ABK:I10*ABF:E11.9",
    "HI*ABJ:R07.9",
    "HI*BE:80:::4",
    "LX*1",
    "SV2*0120*HC:99221*1000*UN*3",
    "DTP*472*D8*20240105",
    "LX*2",
    "SV2*0300**200*UN*1",
]
"""An 837I inpatient claim: statement range, admission date, value codes that are not diagnoses."""

DENTAL_BODY = [
    "BHT*0019*00*REF4*20240101*1200*CH",
    "HL*1**20*1",
    "NM1*85*2*TEST DENTAL*****XX*1234567893",
    "HL*2*1*22*0",
    "SBR*P*18*******CI",
    "NM1*IL*1*POE*PAM****MI*DEN555",
    "NM1*PR*2*DENTAL CO*****PI*DENT01",
    "CLM*DENT001*250***11:B:1*Y*A*Y*Y",
    "LX*1",
    "SV3*AD:D2150*250*11***1",
    "TOO*JP*30",
    "DTP*472*D8*20240201",
]
"""An 837D claim with one SV3 line."""

REMITTANCE_BODY = [
    "BPR*I*430.00*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999988880*DA*98765*20240315",
    "TRN*1*TRACE001*1512345678",
    "DTM*405*20240314",
    "N1*PR*ACME HEALTH",
    "REF*2U*PAYER01",
    "N1*PE*TEST CLINIC*XX*1234567893",
    "LX*1",
    "CLP*CLAIM001*1*150.50*100.00*20.50*12*PCN001*11*1",
    "CAS*CO*45*20.00**253*2.00**97*8.00",
    "NM1*QC*1*DOE*JOHN****MI*MEM001",
    "MOA***MA01*MA18",
    "DTM*232*20240102",
    "DTM*233*20240103",
    "DTM*050*20240110",
    "AMT*AU*120.00",
    "SVC*HC:99213:25*100.50*70.00**1*HC:99214*2",
    "DTM*472*20240102",
    "CAS*PR*1*20.50",
    "CAS*CO*45*10.00",
    "REF*6R*LINE001",
    "AMT*B6*90.50",
    "LQ*HE*N130",
    "SVC*HC:87880*50*30",
    "CAS*CO*45*20",
    "CLP*CLAIM001*22*-150.50*-100.00**12*PCN000*11*8",
    "CAS*CO*45*-50.50",
    "NM1*QC*1*DOE*JOHN****MI*MEM001",
    "LX*2",
    "CLP*CLAIM002*4*80*0*0*12*PCN002*11*1",
    "CAS*CO*29*80",
    "NM1*QC*1*DOE*JANE****MI*MEM002",
    "MIA*0***0*MA130" + "*" * 15 + "MA61",
    "PLB*1234567893*20241231*WO:REF99*-5.00*L6*1.25*FB:OVP1*-2.75",
]
"""An 835: one paid claim with two lines, its reversal (CLP02 22), one denial and three PLB pairs."""
