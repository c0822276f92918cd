"""The detection half of the triage flow: read documents, validate claims, match payments.

Every step is a plain function from one typed value to the next, so the run command, the training
data builder and the tests all call the same code. Nothing here touches the database or a model:
:func:`detect` takes the claims known from earlier runs as an argument and returns what it found.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from features.x12 import detect_transaction_kind, read_x12
from workflow.errors import InputError, NotX12Error
from workflow.invoice_flow import InvoiceInputs, detect_invoice_problems, is_pdf, read_invoice_input
from workflow.invoices.settings import InvoiceSettings
from workflow.exceptions import exceptions_from_findings, exceptions_from_matches
from workflow.matching import ClaimIndex, ClaimRef, PaymentMatch, match_payments
from workflow.records import (
    Claim,
    ClaimPayment,
    Document,
    ExceptionRecord,
    Finding,
    Payment,
    ProviderAdjustment,
    Record,
    Severity,
)
from workflow.remittance import (
    ContractTable,
    GlMapping,
    PaymentKey,
    PaymentRef,
    Reconciliation,
    Tolerance,
    reconcile,
    split_duplicates,
)
from workflow.validation import RuleSet, clean_claim_rate

logger = logging.getLogger(__name__)

__all__ = [
    "DetectionResult",
    "ReadDocument",
    "detect",
    "document_id_of",
    "iter_input_files",
    "read_document",
]

SNIFF_BYTES = 1 << 16
INVOICE_SUFFIXES = (".pdf", ".csv")
HIDDEN_PREFIXES = (".",)


@dataclass
class ReadDocument:
    """One input file after reading: its document row and the records that came out of it."""

    document: Document
    records: list[Record]
    invoice_inputs: InvoiceInputs | None = None


@dataclass
class DetectionResult:
    """Everything one pass of detection found, kept apart by kind for counting and storing."""

    documents: list[ReadDocument] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    claim_payments: list[ClaimPayment] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    provider_adjustments: list[ProviderAdjustment] = field(default_factory=list)
    reading_findings: list[Finding] = field(default_factory=list)
    rule_findings: list[Finding] = field(default_factory=list)
    matches: list[PaymentMatch] = field(default_factory=list)
    exceptions: list[ExceptionRecord] = field(default_factory=list)
    first_pass_rate: float | None = None
    reconciliation: Reconciliation = field(default_factory=Reconciliation)

    @property
    def failed_documents(self) -> list[Document]:
        """Documents that could not be read at all."""
        return [d.document for d in self.documents if d.document.status == "failed"]


def iter_input_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Expand files and folders into the files to read, in a stable sorted order.

    Hidden files and folders (a leading dot) are skipped inside folders, but a file
    named on the command line is always read.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and not any(part.startswith(HIDDEN_PREFIXES) for part in relative):
                    yield child
        else:
            yield path


def document_id_of(path: Path) -> str:
    """Hash a file's bytes in chunks: the document id is the SHA-256 of the content."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sniff_kind(path: Path) -> str | None:
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    return detect_transaction_kind(head)


def read_document(path: Path) -> ReadDocument:
    """Read one file into records; a file that cannot be read becomes a failed document."""
    try:
        size = path.stat().st_size
        document_id = document_id_of(path)
    except OSError as error:
        reason = f"cannot open the file: {error.strerror or error}"
        return ReadDocument(Document(f"missing:{path}", str(path), "unknown", 0, "failed", reason), [])

    if size == 0:
        return ReadDocument(Document(document_id, str(path), "unknown", 0, "failed",
                                     f"{path}: the file is empty (0 bytes); export it again"), [])
    if is_pdf(path) or path.suffix.lower() in INVOICE_SUFFIXES:
        return _read_invoice_document(path, document_id, size)

    try:
        kind = _sniff_kind(path) or "x12"
        records = list(read_x12(path))
    except NotX12Error as error:
        return ReadDocument(Document(document_id, str(path), "unknown", size, "failed", str(error)), [])

    kind = "x12_" + kind.lower()
    logger.info("read document %s (%s): %d records", document_id[:12], kind, len(records))
    return ReadDocument(Document(document_id, str(path), kind, size, "read"), records)


def _read_invoice_document(path: Path, document_id: str, size: int) -> ReadDocument:
    """Read a PDF or an ERP CSV export; its findings are the records stored with it."""
    inputs = InvoiceInputs()
    try:
        kind = read_invoice_input(path, inputs)
    except InputError as error:
        return ReadDocument(Document(document_id, str(path), "unknown", size, "failed", str(error)), [])
    findings: list[Record] = [finding for extracted in inputs.extracted for finding in extracted.findings]
    logger.info("read document %s (%s): %d findings", document_id[:12], kind, len(findings))
    return ReadDocument(Document(document_id, str(path), kind, size, "read"), findings, inputs)


def _split_records(result: DetectionResult, records: Iterable[Record]) -> None:
    for record in records:
        if isinstance(record, Claim):
            result.claims.append(record)
        elif isinstance(record, ClaimPayment):
            result.claim_payments.append(record)
        elif isinstance(record, Payment):
            result.payments.append(record)
        elif isinstance(record, ProviderAdjustment):
            result.provider_adjustments.append(record)
        elif isinstance(record, Finding):
            result.reading_findings.append(record)


def _claims_index(
    claims: Sequence[Claim],
    known_claims: Mapping[str, Sequence[ClaimRef]],
    payer_claim_links: Mapping[str, Sequence[ClaimRef]],
) -> ClaimIndex:
    index = ClaimIndex(ref for refs in known_claims.values() for ref in refs)
    for claim in claims:
        index.add(claim)
    for payer_claim_id, refs in payer_claim_links.items():
        for ref in refs:
            index.link_payer_claim_id(payer_claim_id, ref)
    return index


def detect(
    paths: Iterable[str | os.PathLike[str]] | None = None,
    *,
    rule_set: RuleSet,
    as_of: dt.date,
    documents: Sequence[ReadDocument] | None = None,
    known_claims: Mapping[str, Sequence[ClaimRef]] | None = None,
    payer_claim_links: Mapping[str, Sequence[ClaimRef]] | None = None,
    known_payments: Mapping[PaymentKey, str] | None = None,
    stored_payments: Sequence[PaymentRef] = (),
    contracts: ContractTable | None = None,
    tolerance: Tolerance | None = None,
    gl: GlMapping | None = None,
) -> DetectionResult:
    """Read, validate, match and reconcile; return every record, finding, match and exception.

    Pass ``paths`` to read files, or ``documents`` already read. The other arguments describe
    what earlier runs stored: ``known_claims`` holds claims keyed by claim id, so a remittance can
    match a claim sent last month; ``payer_claim_links`` maps a CLP07 to the claim its earlier
    payment matched; ``known_payments`` maps stored payment keys to their document, so a re-sent
    payment is caught; ``stored_payments`` are claim payments a reversal may reverse. Without
    ``contracts`` no payment is checked for underpayment.
    """
    result = DetectionResult()
    if documents is None:
        documents = [read_document(path) for path in iter_input_files(paths or [])]
    for read in documents:
        result.documents.append(read)
        _split_records(result, read.records)

    outcomes = rule_set.validate_each(result.claims, as_of=as_of)
    result.rule_findings = [finding for _, findings in outcomes for finding in findings]
    result.first_pass_rate = clean_claim_rate(outcomes) if result.claims else None

    # A payment delivered twice is checked and posted once, so its copy is not matched at all.
    duplicates, live_payments = split_duplicates(result.payments, result.claim_payments, known_payments)
    claims_index = _claims_index(result.claims, known_claims or {}, payer_claim_links or {})
    result.matches = match_payments(live_payments, claims_index)

    claims_by_id = {claim.claim_id: claim for claim in result.claims}
    claims_by_key = {(claim.claim_id, claim.payer_id): claim for claim in result.claims}
    result.reconciliation = reconcile(
        result.matches,
        headers=result.payments,
        provider_adjustments=result.provider_adjustments,
        duplicates=duplicates,
        duplicate_claim_payments=len(result.claim_payments) - len(live_payments),
        contracts=contracts,
        tolerance=tolerance,
        gl=gl,
        claims_by_key=claims_by_key,
        stored_payments=stored_payments,
    )
    result.exceptions = exceptions_from_findings(result.rule_findings, claims_by_id, as_of)
    result.exceptions += exceptions_from_matches(result.matches, claims_by_key)
    result.exceptions += result.reconciliation.exceptions
    result.exceptions += _invoice_exceptions(documents)
    result.exceptions = _unique_exceptions(result.exceptions)

    errors = sum(1 for f in result.rule_findings if f.severity == Severity.ERROR)
    logger.info(
        "detected %d exceptions from %d claims, %d claim payments and %d rule errors",
        len(result.exceptions), len(result.claims), len(result.claim_payments), errors,
    )
    return result


def _invoice_exceptions(documents: Sequence[ReadDocument]) -> list[ExceptionRecord]:
    """Extraction findings and three-way match problems of the PDFs and exports in this run."""
    combined = InvoiceInputs()
    for read in documents:
        if read.invoice_inputs is None:
            continue
        combined.extracted += read.invoice_inputs.extracted
        combined.invoices += read.invoice_inputs.invoices
        combined.purchase_orders += read.invoice_inputs.purchase_orders
        combined.receipts += read.invoice_inputs.receipts
        combined.vendors += read.invoice_inputs.vendors
    if not combined:
        return []
    # NOTE: invoices are not stored yet, so a duplicate invoice is caught only when both copies
    # arrive in the same run.
    return detect_invoice_problems(combined, tolerances=InvoiceSettings().tolerances())


def _unique_exceptions(exceptions: Sequence[ExceptionRecord]) -> list[ExceptionRecord]:
    # The same rule can fire twice on one segment (for example two invalid diagnosis pointers
    # with the same value); one exception per id is enough for a reviewer.
    unique: dict[str, ExceptionRecord] = {}
    for exception in exceptions:
        unique.setdefault(exception.exception_id, exception)
    return list(unique.values())
