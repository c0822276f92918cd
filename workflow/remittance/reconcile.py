"""Reconcile the remittances of one run: duplicates, balancing, underpayments, reversals, posting.

:func:`reconcile` takes what detection read and matched and returns, for every claim payment,
whether it posts and why not, plus the exceptions and journal lines that follow. A payment posts
only when every check passes: a confident match, balanced claim, lines and transaction, no denial
(whole or on a line), no underpayment, and for a reversal a known original. Held payments post
nothing at all, so no shortfall or denied amount is ever written off as contractual.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from workflow.exceptions import payment_exception, transaction_exception
from workflow.matching import AUTO_POST_MIN_CONFIDENCE, PaymentMatch
from workflow.records import Claim, ClaimPayment, ExceptionRecord, Payment, ProviderAdjustment
from workflow.remittance.balancing import Imbalance, check_claim_payment, check_transaction, signed_bpr_amount
from workflow.remittance.classify import (
    PaymentRef,
    ReversalPair,
    denied_lines,
    pair_reversals,
    payment_category,
    payment_ref,
)
from workflow.remittance.contracts import ContractTable, Tolerance, Underpayment, check_underpayment
from workflow.remittance.duplicates import DuplicatePayment, PaymentKey, find_duplicate_payments
from workflow.remittance.gl import GlMapping, load_gl_mapping
from workflow.remittance.lines import LineMatch, match_lines
from workflow.remittance.posting import (
    JournalLine,
    journal_lines_for_payment,
    journal_lines_for_provider_adjustment,
    posting_key_for,
)
from workflow.remittance.transactions import TransactionIndex, TransactionKey

logger = logging.getLogger(__name__)

__all__ = ["PaymentOutcome", "Reconciliation", "reconcile", "split_duplicates"]

ZERO = Decimal("0")


@dataclass
class PaymentOutcome:
    """The reconciliation decision for one claim payment.

    ``posting`` is ``posted`` (journal lines made without a person) or ``held``, and then
    ``hold_reasons`` lists the exception codes that stopped it.
    """

    payment: ClaimPayment
    match: PaymentMatch
    category: str
    line_matches: tuple[LineMatch, ...] = ()
    reversal: ReversalPair | None = None
    hold_reasons: list[str] = field(default_factory=list)
    journal_lines: list[JournalLine] = field(default_factory=list)

    @property
    def posting(self) -> str:
        """``held`` when any check failed, else ``posted``."""
        return "held" if self.hold_reasons else "posted"


@dataclass
class Reconciliation:
    """Everything :func:`reconcile` decided for one run's remittances."""

    outcomes: list[PaymentOutcome] = field(default_factory=list)
    duplicates: list[DuplicatePayment] = field(default_factory=list)
    duplicate_claim_payments: int = 0
    imbalances: list[Imbalance] = field(default_factory=list)
    underpayments: list[Underpayment] = field(default_factory=list)
    provider_lines: list[JournalLine] = field(default_factory=list)
    exceptions: list[ExceptionRecord] = field(default_factory=list)
    bpr_total: Decimal = ZERO

    @property
    def journal_lines(self) -> list[JournalLine]:
        """Journal lines of the posted claim payments, then of the posted PLB adjustments."""
        return [line for outcome in self.outcomes for line in outcome.journal_lines] + self.provider_lines

    @property
    def posted_payments(self) -> int:
        """Claim payments posted without a person."""
        return sum(1 for outcome in self.outcomes if outcome.posting == "posted")

    @property
    def auto_posting_rate(self) -> float | None:
        """Posted claim payments over all claim payments; a payment delivered twice counts once."""
        return self.posted_payments / len(self.outcomes) if self.outcomes else None

    @property
    def imbalance_total(self) -> Decimal:
        """Sum of the absolute differences of every failed balancing equation."""
        return sum((abs(imbalance.difference) for imbalance in self.imbalances), ZERO)

    @property
    def posted_total(self) -> Decimal:
        """Cash posted: payment lines plus PLB lines."""
        return sum(
            (line.amount for line in self.journal_lines if line.entry_type in ("payment", "provider_adjustment")), ZERO
        )

    @property
    def posting_variance(self) -> Decimal:
        """BPR total of the run's payments (duplicates left out) minus the cash posted."""
        return self.bpr_total - self.posted_total


def split_duplicates(
    headers: Sequence[Payment], claim_payments: Sequence[ClaimPayment], known_payments: Mapping[PaymentKey, str] | None
) -> tuple[list[DuplicatePayment], list[ClaimPayment]]:
    """Find re-sent payments; return them and the claim payments that are not part of one."""
    duplicates = find_duplicate_payments(headers, known_payments)
    transactions = TransactionIndex(headers)
    duplicate_transactions = {transactions.key_of_header(d.payment) for d in duplicates}
    live = [p for p in claim_payments if transactions.key_for(p.source) not in duplicate_transactions]
    return duplicates, live


def _duplicate_exception(duplicate: DuplicatePayment) -> ExceptionRecord:
    header = duplicate.payment
    where = "a run before this one" if duplicate.original_in_store else "an earlier file of this run"
    return transaction_exception(
        header, "duplicate_remittance", "remittance.duplicate",
        f"The payment with trace number {header.trace_number} was already delivered in {where}; it is posted once.",
        abs(signed_bpr_amount(header)),
        {
            "payer_id": header.payer_id,
            "original_document_id": duplicate.original_document_id,
            "duplicate_document_id": header.source.document_id,
            "original_in_store": duplicate.original_in_store,
        },
    )


def _imbalance_evidence(imbalance: Imbalance) -> dict[str, object]:
    return {
        "equation": imbalance.equation,
        "expected": str(imbalance.expected),
        "actual": str(imbalance.actual),
        "difference": str(imbalance.difference),
        "line_index": imbalance.line_index,
    }


def _imbalance_exception(payment: ClaimPayment, imbalance: Imbalance, claim: Claim | None) -> ExceptionRecord:
    where = f"line {imbalance.line_index + 1}" if imbalance.line_index is not None else "the claim payment"
    return payment_exception(
        payment, "remittance_imbalance", f"balance.{imbalance.level}",
        f"{where.capitalize()} does not balance: {imbalance.equation} is off by {imbalance.difference}.",
        abs(imbalance.difference), claim, _imbalance_evidence(imbalance), id_parts=(imbalance.line_index,),
    )


def _underpayment_exception(payment: ClaimPayment, underpayment: Underpayment, claim: Claim | None) -> ExceptionRecord:
    return payment_exception(
        payment, "underpayment", "payment.underpaid",
        f"The payer paid {underpayment.paid}, {underpayment.shortfall} below the contract's {underpayment.expected}.",
        underpayment.shortfall, claim,
        {
            "expected_payment": str(underpayment.expected),
            "paid_on_contract_lines": str(underpayment.paid),
            "shortfall": str(underpayment.shortfall),
            "tolerance": str(underpayment.tolerance),
            "contract_lines": list(underpayment.lines),
        },
    )


def _line_denial_exception(payment: ClaimPayment, indexes: list[int], claim: Claim | None) -> ExceptionRecord:
    lines = []
    for index in indexes:
        service = payment.service_payments[index]
        lines.append({
            "line_index": index,
            "procedure_code": service.procedure_code,
            "charge": str(service.charge),
            "adjustments": [{"group": a.group, "reason": a.reason, "amount": str(a.amount)} for a in service.adjustments],
            "remark_codes": list(service.remark_codes),
        })
    at_risk = sum((payment.service_payments[index].charge for index in indexes), ZERO)
    return payment_exception(
        payment, "denial", "payment.line_denied",
        f"The payer denied {len(indexes)} of {len(payment.service_payments)} lines; their balance stays open.",
        at_risk, claim, {"denied_lines": lines},
    )


def _reversal_exception(payment: ClaimPayment, claim: Claim | None) -> ExceptionRecord:
    return payment_exception(
        payment, "reversal", "reversal.original_not_found",
        "The payer reversed a payment that is not on record; a person must find the original before posting.",
        abs(payment.paid), claim, {"payer_claim_id": payment.payer_claim_id},
    )


def _claim_lines(match: PaymentMatch) -> Sequence[object]:
    return tuple(getattr(match.claim, "service_lines", ()) or ()) if match.claim is not None else ()


def _match_holds(match: PaymentMatch) -> list[str]:
    if match.status != "matched":
        return [f"match.{match.status}"]
    if match.claim_id_differs or match.confidence < AUTO_POST_MIN_CONFIDENCE:
        return ["match.low_confidence"]
    return []


def _full_claim(match: PaymentMatch, claims_by_key: Mapping[tuple[str, str | None], Claim]) -> Claim | None:
    if isinstance(match.claim, Claim):
        return match.claim
    if match.claim is None:
        return None
    return claims_by_key.get((match.claim.claim_id, match.claim.payer_id))


@dataclass
class _Context:
    contracts: ContractTable | None
    tolerance: Tolerance
    claims_by_key: Mapping[tuple[str, str | None], Claim]
    reversals: dict[PaymentRef, ReversalPair]
    result: Reconciliation


def _check_payment(match: PaymentMatch, context: _Context) -> PaymentOutcome:
    """Run every claim-payment check and collect its exceptions and hold reasons."""
    payment = match.payment
    claim = _full_claim(match, context.claims_by_key)
    outcome = PaymentOutcome(payment, match, payment_category(payment))
    outcome.line_matches = match_lines(payment.service_payments, _claim_lines(match))
    outcome.hold_reasons.extend(_match_holds(match))

    for imbalance in check_claim_payment(payment):
        context.result.imbalances.append(imbalance)
        context.result.exceptions.append(_imbalance_exception(payment, imbalance, claim))
        outcome.hold_reasons.append(f"balance.{imbalance.level}")

    if outcome.category in ("denial", "zero_paid"):
        outcome.hold_reasons.append(f"payment.{'denied' if outcome.category == 'denial' else 'zero_paid'}")
        return outcome

    denied = denied_lines(payment) if outcome.category != "reversal" else []
    if denied:
        context.result.exceptions.append(_line_denial_exception(payment, denied, claim))
        outcome.hold_reasons.append("payment.line_denied")

    if outcome.category == "reversal":
        outcome.reversal = context.reversals.get(payment_ref(payment))
        if outcome.reversal is None or outcome.reversal.original is None:
            context.result.exceptions.append(_reversal_exception(payment, claim))
            outcome.hold_reasons.append("reversal.original_not_found")
    elif context.contracts is not None:
        underpayment = check_underpayment(payment, context.contracts, context.tolerance, skip_lines=denied)
        if underpayment is not None:
            context.result.underpayments.append(underpayment)
            context.result.exceptions.append(_underpayment_exception(payment, underpayment, claim))
            outcome.hold_reasons.append("payment.underpaid")
    return outcome


def _check_transactions(
    transactions: TransactionIndex, headers: Sequence[Payment], live: Sequence[ClaimPayment],
    provider_adjustments: Sequence[ProviderAdjustment], duplicate_keys: set[TransactionKey], result: Reconciliation,
) -> set[TransactionKey]:
    """Check each transaction's BPR equation; return the keys of transactions that do not balance."""
    claims_by_transaction: dict[TransactionKey, list[ClaimPayment]] = defaultdict(list)
    for payment in live:
        claims_by_transaction[transactions.key_for(payment.source)].append(payment)
    plbs_by_transaction: dict[TransactionKey, list[ProviderAdjustment]] = defaultdict(list)
    for plb in provider_adjustments:
        plbs_by_transaction[transactions.key_for(plb.source)].append(plb)

    unbalanced: set[TransactionKey] = set()
    for header in headers:
        key = transactions.key_of_header(header)
        if key in duplicate_keys:
            continue
        result.bpr_total += signed_bpr_amount(header)
        imbalance = check_transaction(header, claims_by_transaction[key], plbs_by_transaction[key])
        if imbalance is None:
            continue
        unbalanced.add(key)
        result.imbalances.append(imbalance)
        result.exceptions.append(transaction_exception(
            header, "remittance_imbalance", "balance.transaction",
            f"The payment does not balance: {imbalance.equation} is off by {imbalance.difference}.",
            abs(imbalance.difference), _imbalance_evidence(imbalance),
        ))
    return unbalanced


def _post(result: Reconciliation, transactions: TransactionIndex, provider_adjustments: Sequence[ProviderAdjustment],
          held_transactions: set[TransactionKey], gl: GlMapping) -> None:
    occurrence: dict[str, int] = defaultdict(int)
    for outcome in result.outcomes:
        if transactions.key_for(outcome.payment.source) in held_transactions:
            outcome.hold_reasons.append("balance.transaction")
        base_key = posting_key_for(outcome.payment)
        number = occurrence[base_key]
        occurrence[base_key] += 1
        if not outcome.hold_reasons:
            outcome.journal_lines = journal_lines_for_payment(outcome.payment, gl, number)

    plb_occurrence: dict[tuple[object, ...], int] = defaultdict(int)
    for plb in provider_adjustments:
        if transactions.key_for(plb.source) in held_transactions:
            continue
        identity = (plb.payer_id, plb.trace_number, plb.provider_id, plb.reason, plb.reference, plb.amount)
        result.provider_lines.extend(journal_lines_for_provider_adjustment(plb, gl, plb_occurrence[identity]))
        plb_occurrence[identity] += 1


def reconcile(
    matches: Sequence[PaymentMatch],
    *,
    headers: Sequence[Payment],
    provider_adjustments: Sequence[ProviderAdjustment] = (),
    duplicates: Sequence[DuplicatePayment] = (),
    duplicate_claim_payments: int = 0,
    contracts: ContractTable | None = None,
    tolerance: Tolerance | None = None,
    gl: GlMapping | None = None,
    claims_by_key: Mapping[tuple[str, str | None], Claim] | None = None,
    stored_payments: Sequence[PaymentRef] = (),
) -> Reconciliation:
    """Check and post the matched claim payments of one run.

    ``matches`` covers the claim payments that are not part of a re-sent payment (see
    :func:`split_duplicates`); ``duplicates`` become ``duplicate_remittance`` exceptions.
    ``stored_payments`` are claim payments of earlier runs that a reversal may reverse.
    """
    result = Reconciliation(duplicates=list(duplicates), duplicate_claim_payments=duplicate_claim_payments)
    result.exceptions.extend(_duplicate_exception(duplicate) for duplicate in duplicates)
    transactions = TransactionIndex(headers)
    duplicate_keys = {transactions.key_of_header(duplicate.payment) for duplicate in duplicates}

    payments = [match.payment for match in matches]
    context = _Context(
        contracts=contracts,
        tolerance=tolerance or Tolerance(),
        claims_by_key=claims_by_key or {},
        reversals=pair_reversals(payments, stored_payments),
        result=result,
    )
    result.outcomes = [_check_payment(match, context) for match in matches]
    live_plbs = [plb for plb in provider_adjustments if transactions.key_for(plb.source) not in duplicate_keys]
    held_transactions = _check_transactions(transactions, headers, payments, live_plbs, duplicate_keys, result)
    _post(result, transactions, live_plbs, held_transactions, gl or load_gl_mapping())

    logger.info(
        "reconciled %d claim payments: %d posted, %d held, %d duplicate payments, %d imbalances",
        len(result.outcomes), result.posted_payments, len(result.outcomes) - result.posted_payments,
        len(result.duplicates), len(result.imbalances),
    )
    return result
