"""Code sets as data, loaded on first use and cached: ICD-10-CM, place of service, type of bill,
CARC and RARC categories, and the payer tables that operators edit.

Shipped files live in ``features/codesets/data``. The overlay folder (``TRIAGE_CODESETS_DIR``,
default ``./var/codesets``) contains imported official lists and the operator's own rows.
"""

from __future__ import annotations

from features.codesets._tables import CODESETS_DIR_ENV, DATA_DIR, DatedCode, codesets_dir
from features.codesets.billing_codes import is_code_effective, place_of_service, type_of_bill
from features.codesets.icd10 import (
    DemographicEdit,
    demographic_edits_for,
    icd10_status,
    import_icd10_order_file,
    normalize_icd10,
)
from features.codesets.payers import (
    FILING_INDICATOR_KINDS,
    PAYER_KINDS,
    PriorAuthRule,
    TimelyFilingLimit,
    payer_kind,
    prior_auth_required,
    prior_auth_rules,
    timely_filing_limit,
)
from features.codesets.remittance_codes import (CodeInfo, carc_category, import_official_codes, rarc_category,
                                                 shipped_carc_category)

__all__ = [
    "CODESETS_DIR_ENV",
    "DATA_DIR",
    "FILING_INDICATOR_KINDS",
    "PAYER_KINDS",
    "CodeInfo",
    "DatedCode",
    "DemographicEdit",
    "PriorAuthRule",
    "TimelyFilingLimit",
    "carc_category",
    "shipped_carc_category",
    "codesets_dir",
    "demographic_edits_for",
    "icd10_status",
    "import_icd10_order_file",
    "import_official_codes",
    "is_code_effective",
    "normalize_icd10",
    "payer_kind",
    "place_of_service",
    "prior_auth_required",
    "prior_auth_rules",
    "rarc_category",
    "timely_filing_limit",
    "type_of_bill",
]
