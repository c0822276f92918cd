"""Remittance reconciliation: line matching, balancing, duplicates, underpayments, reversals and posting.

:func:`reconcile` is the entry point that :func:`workflow.flow.detect` calls; the modules hold
one concern each (``balancing``, ``contracts``, ``duplicates``, ``classify``, ``lines``,
``posting``, ``gl``). Docs: ``docs/remittance.md``.
"""

from workflow.remittance.balancing import Imbalance, check_claim_payment, check_transaction
from workflow.remittance.classify import PaymentRef, ReversalPair, pair_reversals, payment_category
from workflow.remittance.contracts import ContractRate, ContractTable, Tolerance, load_contracts, write_contracts
from workflow.remittance.duplicates import DuplicatePayment, PaymentKey, find_duplicate_payments, payment_key
from workflow.remittance.gl import GlMapping, load_gl_mapping
from workflow.remittance.lines import LineMatch, match_lines
from workflow.remittance.posting import JournalLine
from workflow.remittance.reconcile import PaymentOutcome, Reconciliation, reconcile, split_duplicates

__all__ = [
    "ContractRate",
    "ContractTable",
    "DuplicatePayment",
    "GlMapping",
    "Imbalance",
    "JournalLine",
    "LineMatch",
    "PaymentKey",
    "PaymentOutcome",
    "PaymentRef",
    "Reconciliation",
    "ReversalPair",
    "Tolerance",
    "check_claim_payment",
    "check_transaction",
    "find_duplicate_payments",
    "load_contracts",
    "load_gl_mapping",
    "match_lines",
    "pair_reversals",
    "payment_category",
    "payment_key",
    "reconcile",
    "split_duplicates",
    "write_contracts",
]
