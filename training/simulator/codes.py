"""Code lists the simulated claims draw from: diagnoses, procedures and visit templates.

Procedure codes are numbers only (CPT Category I and HCPCS Level II); no descriptions are stored.
Every diagnosis in :data:`BILLABLE_ICD10` is a billable (leaf) ICD-10-CM code in the April 2026
release, which the tests check with ``simple_icd_10_cm.is_leaf``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AUTH_REQUIRED_PROCEDURES",
    "BILLABLE_ICD10",
    "INVALID_ICD10",
    "PROCEDURE_CODES",
    "VisitTemplate",
    "VISIT_TEMPLATES",
    "RENDERING_TAXONOMIES",
]

BILLABLE_ICD10: tuple[str, ...] = (
    "E11.9", "E11.65", "E11.22", "E78.5", "E78.2", "E66.9", "E03.9", "E55.9", "E87.6",
    "I10", "I25.10", "I48.91", "I50.9", "I73.9",
    "J06.9", "J02.9", "J20.9", "J18.9", "J45.909", "J44.9", "J30.9", "J01.90",
    "M54.50", "M54.2", "M25.561", "M17.11", "M19.90", "M62.830", "M79.604",
    "K21.9", "K59.00", "K29.70", "N39.0", "N18.30",
    "R05.9", "R51.9", "R10.9", "R53.83", "R42", "R07.9", "R11.2", "R73.03", "R73.09",
    "Z00.00", "Z00.01", "Z23", "Z12.31", "Z79.4", "Z79.899", "Z71.3", "Z13.220",
    "F41.9", "F32.A", "F41.1", "F17.210", "G43.909", "G47.33", "G89.29",
    "H10.9", "L30.9", "B34.9", "D64.9", "S93.401A", "U07.1",
)  # fmt: skip

# Header codes that are valid categories but not billable, and codes that do not exist at all.
INVALID_ICD10: tuple[str, ...] = (
    "E11", "I50", "M54.5", "J45", "E78", "N18.3", "R05", "K21",
    "E11.99", "I10.9", "Z00.9", "J06.99",
)  # fmt: skip

# Procedures some payers (not traditional Medicare) want a prior authorization for.
AUTH_REQUIRED_PROCEDURES: frozenset[str] = frozenset({"70553", "73721", "97110", "97140"})

RENDERING_TAXONOMIES: tuple[str, ...] = ("207Q00000X", "207R00000X", "208D00000X", "261QP2300X")


@dataclass(frozen=True, slots=True)
class VisitTemplate:
    """A kind of visit: place of service, the main procedure choices and optional add-ons.

    ``addons`` are (procedure, units, probability) tuples; ``diagnoses`` are the codes this kind
    of visit is usually billed with.
    """

    name: str
    weight: float
    place_of_service: str
    main: tuple[tuple[str, int], ...]
    addons: tuple[tuple[str, int, float], ...]
    diagnoses: tuple[str, ...]


VISIT_TEMPLATES: tuple[VisitTemplate, ...] = (
    VisitTemplate(
        "office_chronic", 0.34, "11",
        (("99213", 1), ("99214", 1), ("99215", 1), ("99212", 1)),
        (("80053", 1, 0.30), ("83036", 1, 0.25), ("80061", 1, 0.20), ("36415", 1, 0.35), ("93000", 1, 0.10)),
        ("E11.9", "E11.65", "E11.22", "I10", "E78.5", "E78.2", "I25.10", "I48.91", "I50.9", "N18.30",
         "E66.9", "E03.9", "Z79.4", "Z79.899", "R73.03", "R73.09", "F41.1", "G47.33"),
    ),
    VisitTemplate(
        "office_acute", 0.22, "11",
        (("99213", 1), ("99212", 1), ("99214", 1), ("99203", 1), ("99204", 1)),
        (("85025", 1, 0.20), ("36415", 1, 0.20), ("81002", 1, 0.15), ("96372", 1, 0.10), ("J1100", 10, 0.08),
         ("71046", 1, 0.08)),
        ("J06.9", "J02.9", "J20.9", "J01.90", "J30.9", "R05.9", "R51.9", "R10.9", "R11.2", "N39.0",
         "B34.9", "H10.9", "L30.9", "K21.9", "K59.00", "U07.1", "F41.9", "F32.A", "G43.909"),
    ),
    VisitTemplate(
        "preventive", 0.12, "11",
        (("99396", 1), ("G0439", 1)),
        (("80061", 1, 0.40), ("85025", 1, 0.30), ("36415", 1, 0.45), ("90471", 1, 0.30), ("90686", 1, 0.30),
         ("77067", 1, 0.08)),
        ("Z00.00", "Z00.01", "Z23", "Z12.31", "Z13.220", "Z71.3", "E55.9", "F17.210"),
    ),
    VisitTemplate(
        "musculoskeletal", 0.12, "11",
        (("99213", 1), ("99214", 1), ("20610", 1), ("97110", 2), ("97140", 2)),
        (("J3301", 10, 0.30), ("97110", 1, 0.25), ("73721", 1, 0.10)),
        ("M54.50", "M54.2", "M25.561", "M17.11", "M19.90", "M62.830", "M79.604", "S93.401A", "G89.29"),
    ),
    VisitTemplate(
        "emergency", 0.10, "23",
        (("99283", 1), ("99284", 1)),
        (("71046", 1, 0.35), ("93000", 1, 0.30), ("85025", 1, 0.30), ("80053", 1, 0.25)),
        ("R07.9", "R10.9", "R42", "R53.83", "J18.9", "J45.909", "J44.9", "S93.401A", "E87.6", "D64.9",
         "I48.91", "R11.2"),
    ),
    VisitTemplate(
        "outpatient_imaging", 0.10, "22",
        (("70553", 1), ("73721", 1), ("71046", 1), ("77067", 1)),
        (("36415", 1, 0.05),),
        ("G43.909", "R51.9", "R42", "M25.561", "M17.11", "Z12.31", "J18.9", "R05.9", "I73.9"),
    ),
)  # fmt: skip

PROCEDURE_CODES: frozenset[str] = frozenset(
    code
    for template in VISIT_TEMPLATES
    for code in [main for main, _ in template.main] + [addon for addon, _, _ in template.addons]
)
