"""Operator settings of the invoice three-way match, read from ``TRIAGE_INVOICE_*`` variables."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflow.invoices.matching import MatchTolerances

__all__ = ["InvoiceSettings"]


class InvoiceSettings(BaseSettings):
    """Price and quantity tolerances of the three-way match; each field is ``TRIAGE_INVOICE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_INVOICE_", extra="ignore")

    price_pct: Decimal = Field(default=Decimal("2"), ge=0,
                               description="percent a unit price may exceed the PO price")
    price_abs: Decimal = Field(default=Decimal("0.05"), ge=0,
                               description="amount in the invoice currency a unit price may exceed the PO price")
    qty_pct: Decimal = Field(default=Decimal("0"), ge=0,
                             description="percent an invoiced quantity may exceed the quantity received")
    duplicate_window_days: int = Field(default=7, ge=0,
                                       description="days apart two same-amount invoices of a vendor still count as duplicates")

    def tolerances(self) -> MatchTolerances:
        """The match tolerances these settings describe."""
        return MatchTolerances(price_pct=self.price_pct, price_abs=self.price_abs, qty_pct=self.qty_pct,
                               duplicate_window_days=self.duplicate_window_days)
