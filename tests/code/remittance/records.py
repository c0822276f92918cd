"""Payment headers (BPR) and PLB adjustments with fake data, for the remittance unit tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tests.factories import make_source
from workflow.records import Payment, ProviderAdjustment


def make_header(**changes: Any) -> Payment:
    """The BPR of the transaction that ``tests.factories.make_payment`` claim payments belong to."""
    values: dict[str, Any] = {
        "trace_number": "TRACE1", "amount": Decimal("80.00"), "credit_debit": "C", "method": "ACH",
        "payment_date": dt.date(2026, 11, 1), "payer_id": "PAYER1", "payer_name": None, "payee_id": "1234567893",
        "payee_id_qualifier": "XX", "payee_name": None, "production_date": None, "source": make_source(segment_index=3),
    }
    values.update(changes)
    return Payment(**values)


def make_plb(**changes: Any) -> ProviderAdjustment:
    values: dict[str, Any] = {
        "provider_id": "1234567893", "fiscal_period_date": dt.date(2026, 12, 31), "reason": "WO",
        "reference": "REF1", "amount": Decimal("-15.25"), "payer_id": "PAYER1", "trace_number": "TRACE1",
        "source": make_source(segment_index=40),
    }
    values.update(changes)
    return ProviderAdjustment(**values)
