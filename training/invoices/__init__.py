"""Simulated supplier invoices: PDFs with known truth, and the PO and receipt exports they match."""

from training.invoices.generator import LAYOUTS, VENDORS, generate_invoices

__all__ = ["LAYOUTS", "VENDORS", "generate_invoices"]
