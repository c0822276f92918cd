"""Operator settings of remittance reconciliation, read from ``TRIAGE_*`` environment variables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from workflow.remittance.contracts import ContractTable, Tolerance, load_contracts
from workflow.remittance.gl import GlMapping, load_gl_mapping

__all__ = ["RemittanceSettings"]


class RemittanceSettings(BaseSettings):
    """Contract table, GL mapping and underpayment tolerance; each field is ``TRIAGE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="TRIAGE_", extra="ignore")

    contracts_path: Path | None = Field(
        default=None, description="CSV of contract rates; without it no payment is checked for underpayment")
    gl_accounts_path: Path | None = Field(
        default=None, description="CSV mapping journal entries to GL accounts [default: the shipped gl_accounts.csv]")
    underpayment_tolerance_amount: Decimal = Field(
        default=Decimal("1.00"), ge=0, description="shortfall in dollars that never counts as an underpayment")
    underpayment_tolerance_percent: Decimal = Field(
        default=Decimal("1"), ge=0, le=100, description="shortfall as a percent of the expected payment that never counts")

    def tolerance(self) -> Tolerance:
        """The underpayment tolerance these settings describe."""
        return Tolerance(self.underpayment_tolerance_amount, self.underpayment_tolerance_percent)

    def contracts(self, override: Path | None = None) -> ContractTable | None:
        """Load the contract table from ``override`` or the configured path; None when neither is set."""
        path = override or self.contracts_path
        return load_contracts(path) if path else None

    def gl_mapping(self) -> GlMapping:
        """Load the configured GL mapping, or the shipped default."""
        return load_gl_mapping(self.gl_accounts_path)
