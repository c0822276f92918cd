"""Roll-ups of high-cardinality codes and the deadlines that drive priority.

A model sees thousands of possible procedure and diagnosis codes but only a few dozen in training,
so each code also gets a coarse group that generalises: the CPT section or HCPCS letter of a
procedure, and the ICD-10-CM chapter of a diagnosis. Appeal windows complete the timely filing
limits of :mod:`features.codesets` for the "days to deadline" features.
"""

from __future__ import annotations

import functools
import logging
import re

logger = logging.getLogger(__name__)

__all__ = ["APPEAL_WINDOW_DAYS", "appeal_window_days", "icd10_chapter", "procedure_group"]

# Days from the payer's initial determination (the remittance) to the last day a first-level
# appeal is accepted: 120 days for a Medicare redetermination, 65 days for a Medicare Advantage
# plan reconsideration, and at least 180 days for an internal appeal to a commercial group plan.
# NOTE: each contract and state sets its own provider appeal window. The Medicaid, managed
# Medicaid and "other" rows are assumptions, so operators should replace them with contract terms.
APPEAL_WINDOW_DAYS: dict[str, int] = {
    "medicare": 120,
    "medicare_advantage": 65,
    "medicaid": 90,
    "medicaid_managed_care": 60,
    "commercial": 180,
    "tricare": 90,
    "veterans": 90,
    "workers_comp": 90,
    "auto": 90,
    "other": 90,
}

# ICD-10-CM tabular list chapters by the first three characters of the code.
_ICD10_CHAPTERS: tuple[tuple[str, str, str], ...] = (
    ("A00", "B99", "01_infectious"),
    ("C00", "D49", "02_neoplasms"),
    ("D50", "D89", "03_blood_immune"),
    ("E00", "E89", "04_endocrine_metabolic"),
    ("F01", "F99", "05_mental"),
    ("G00", "G99", "06_nervous"),
    ("H00", "H59", "07_eye"),
    ("H60", "H95", "08_ear"),
    ("I00", "I99", "09_circulatory"),
    ("J00", "J99", "10_respiratory"),
    ("K00", "K95", "11_digestive"),
    ("L00", "L99", "12_skin"),
    ("M00", "M99", "13_musculoskeletal"),
    ("N00", "N99", "14_genitourinary"),
    ("O00", "O9A", "15_pregnancy"),
    ("P00", "P96", "16_perinatal"),
    ("Q00", "Q99", "17_congenital"),
    ("R00", "R99", "18_symptoms_findings"),
    ("S00", "T88", "19_injury_poisoning"),
    ("U00", "U85", "22_special_purposes"),
    ("V00", "Y99", "20_external_causes"),
    ("Z00", "Z99", "21_health_status_contact"),
)

# CPT Category I section ranges by five-digit code.
_CPT_SECTIONS: tuple[tuple[int, int, str], ...] = (
    (100, 1999, "cpt_anesthesia"),
    (10004, 69990, "cpt_surgery"),
    (70010, 79999, "cpt_radiology"),
    (80047, 89398, "cpt_pathology_lab"),
    (90281, 99199, "cpt_medicine"),
    (99202, 99499, "cpt_evaluation_management"),
    (99500, 99607, "cpt_medicine"),
)

_CPT_CATEGORY_SUFFIX = {"F": "cpt_category_ii", "T": "cpt_category_iii", "U": "cpt_pla", "M": "cpt_maaa"}
_HCPCS_LEVEL_II = re.compile(r"^[A-V][0-9]{4}$")


def procedure_group(code: str | None) -> str | None:
    """Return the CPT section or HCPCS Level II letter group of a procedure code, or None if unknown."""
    if not code:
        return None
    return _procedure_group(code)


# Feature rows look up the same few codes again and again, and the results never change.
@functools.lru_cache(maxsize=4096)
def _procedure_group(code: str) -> str:
    code = code.strip().upper()
    if len(code) == 5 and code[:4].isdigit() and code[4] in _CPT_CATEGORY_SUFFIX:
        return _CPT_CATEGORY_SUFFIX[code[4]]
    if len(code) == 5 and code.isdigit():
        number = int(code)
        for low, high, name in _CPT_SECTIONS:
            if low <= number <= high:
                return name
        return "cpt_other"
    if _HCPCS_LEVEL_II.match(code):
        return f"hcpcs_{code[0]}"
    return "other"


def icd10_chapter(code: str | None) -> str | None:
    """Return the ICD-10-CM chapter of a diagnosis code (with or without the dot), or None if unknown."""
    if not code:
        return None
    return _icd10_chapter(code)


@functools.lru_cache(maxsize=4096)
def _icd10_chapter(code: str) -> str | None:
    category = code.replace(".", "").strip().upper()[:3]
    if len(category) < 3:
        return None
    for low, high, name in _ICD10_CHAPTERS:
        if low <= category <= high:
            return name
    return None


def appeal_window_days(kind: str) -> int:
    """Return the first-level appeal window of a payer kind in days, 90 for an unknown kind."""
    return APPEAL_WINDOW_DAYS.get(kind, APPEAL_WINDOW_DAYS["other"])
