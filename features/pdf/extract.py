"""``extract_pdf``: read an invoice, remittance advice or claim form PDF into fields with positions.

The steps are: open the file, judge each page's text layer, group words into lines and read form
fields. Then pick a vendor template if one matches, classify the document, and read header fields
(template first, then label rules). Last, read line items or claims and check the arithmetic.
An empty, encrypted or malformed file raises PdfError; every other problem becomes a finding.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from pathlib import Path

from pdfminer.pdftypes import PDFException
from pdfminer.psparser import PSException
from pdfplumber.pdf import PDF
from pdfplumber.utils.exceptions import PdfminerException

from features.pdf.checks import check_arithmetic, check_confidence, page_findings
from features.pdf.document import ExtractedDocument, ExtractedField, PageInfo
from features.pdf.fields import (INVOICE_RULES, REMITTANCE_RULES, ReadingContext, read_currency, read_fields,
                                 read_vendor)
from features.pdf.forms import read_form_fields
from features.pdf.layout import Line, open_pdf, page_info, page_lines
from features.pdf.numbers import detect_decimal_separator
from features.pdf.tables import CLAIM_COLUMNS, ITEM_COLUMNS, read_table_rows
from features.pdf.templates import Template, apply_template, find_template, load_templates
from workflow.errors import PdfError

logger = logging.getLogger(__name__)

__all__ = ["classify_kind", "extract_pdf"]

# Errors pdfminer and pdfplumber raise on content they cannot parse. A page that raises one is
# reported as unreadable. One raised outside a page turns into PdfError.
PARSE_ERRORS = (PdfminerException, PDFException, PSException, ValueError, TypeError, KeyError,
                AttributeError, IndexError, AssertionError, ZeroDivisionError, RecursionError, OverflowError)

_REMITTANCE_WORDS = re.compile(r"remittance\s+advice|explanation\s+of\s+benefits|\bEOB\b|payment\s+advice|"
                               r"remittance\s+summary|provider\s+remittance|\bERA\b", re.IGNORECASE)
_INVOICE_WORDS = re.compile(r"\binvoice\b|\bfactuur\b|\brechnung\b|\bfacture\b|\bbill\s+(?:no|number)|"
                            r"\bstatement\b|\breceipt\b|\bbill\b", re.IGNORECASE)
_CLAIM_FORM_WORDS = re.compile(r"\b(?:CMS|HCFA)[- ]?1500\b|\bFORM\s+1500\b|\bUB-?04\b|\bCMS-1450\b|"
                               r"claim\s+form|universal\s+claim", re.IGNORECASE)


def classify_kind(text: str, form_field_count: int) -> str:
    """Classify a document by its words: remittance advice, invoice, claim form or unknown."""
    if _REMITTANCE_WORDS.search(text):
        return "remittance_advice"
    if _CLAIM_FORM_WORDS.search(text) or form_field_count >= 20:
        return "claim_form"
    if _INVOICE_WORDS.search(text):
        return "invoice"
    return "unknown"


def _read_pages(pdf: PDF, path: Path) -> tuple[list[PageInfo], list[Line]]:
    infos: list[PageInfo] = []
    lines: list[Line] = []
    for page in pdf.pages:
        try:
            # Fake-bold text draws each glyph several times; duplicates would double every letter.
            clean = page.dedupe_chars(tolerance=1)
            info = page_info(clean)
            if info.usable:
                lines.extend(page_lines(clean))
        except PARSE_ERRORS as exc:
            logger.warning("%s: page %d cannot be parsed (%s: %s)", path, page.page_number, type(exc).__name__, exc)
            info = PageInfo(page.page_number, False, 0, False, 0, 0.0, 0.0,
                            reason=f"the page content cannot be parsed ({type(exc).__name__})")
        infos.append(info)
    return infos, lines


def _context(lines: list[Line], template: Template | None) -> ReadingContext:
    decimal = detect_decimal_separator(line.text for line in lines)
    if template is not None and template.decimal:
        decimal = template.decimal
    day_first = decimal == ","
    if template is not None and template.day_first is not None:
        day_first = bool(template.day_first)
    return ReadingContext(decimal=decimal, day_first=day_first)


def _read_invoice(doc: ExtractedDocument, lines: list[Line], context: ReadingContext,
                  template: Template | None, page_height: float) -> None:
    fields: dict[str, ExtractedField] = {}
    if template is not None:
        fields.update(apply_template(template, lines, context))
        fields.setdefault("vendor", ExtractedField(template.vendor, None, None, 0.95, method="template"))
    generic = read_fields(lines, INVOICE_RULES, context, skip=tuple(fields))
    fields.update(generic)
    if "vendor" not in fields and (vendor := read_vendor(lines, page_height)) is not None:
        fields["vendor"] = vendor
    if "currency" not in fields and (currency := read_currency(lines)) is not None:
        fields["currency"] = currency
    doc.fields.update(fields)
    doc.line_items = read_table_rows(lines, ITEM_COLUMNS, context)


def _read_remittance(doc: ExtractedDocument, lines: list[Line], context: ReadingContext) -> None:
    doc.fields.update(read_fields(lines, REMITTANCE_RULES, context))
    if (currency := read_currency(lines)) is not None:
        doc.fields.setdefault("currency", currency)
    claims = read_table_rows(lines, CLAIM_COLUMNS, context)
    if not claims and "claim_number" in doc.fields:
        # A single-claim advice prints "Claim Number:", "Billed Amount:" and so on as labels.
        claims = [{name: doc.fields[name] for name in ("claim_number", "billed", "allowed", "paid",
                                                       "patient_responsibility") if name in doc.fields}]
    doc.claims = claims


def _extract(path: Path, document_id: str, templates: list[Template]) -> ExtractedDocument:
    pdf = open_pdf(path)
    with pdf:
        pages, lines = _read_pages(pdf, path)
        try:
            form_fields, declared = read_form_fields(pdf)
        except PARSE_ERRORS as exc:
            logger.warning("%s: form fields cannot be read (%s)", path, type(exc).__name__)
            form_fields, declared = {}, 0
    text = "\n".join(line.text for line in lines)
    first_page_text = "\n".join(line.text for line in lines if line.page == (lines[0].page if lines else 1))
    doc = ExtractedDocument(file=str(path), document_id=document_id,
                            kind=classify_kind(text, declared), pages=pages, form_fields=form_fields)
    template = find_template(templates, first_page_text) if lines else None
    if template is not None:
        doc.template = template.name
        if doc.kind == "unknown":
            doc.kind = "invoice"
    context = _context(lines, template)
    page_height = pages[0].height if pages else 792.0
    if doc.kind in ("invoice", "unknown") and lines:
        _read_invoice(doc, lines, context, template, page_height)
    elif doc.kind == "remittance_advice":
        _read_remittance(doc, lines, context)
    form_pages = {f.page for f in form_fields.values() if f.page}
    doc.findings.extend(page_findings(doc, pages, form_pages))
    if doc.kind == "invoice":
        doc.findings.extend(check_arithmetic(doc))
    doc.findings.extend(check_confidence(doc))
    return doc


def extract_pdf(path: str | Path, *, templates: Iterable[Template] | Path | None = None) -> ExtractedDocument:
    """Read a PDF into an ExtractedDocument.

    ``templates`` is a list of loaded templates, a folder or file of YAML templates, or None for the
    templates shipped in ``features/pdf/templates``. Raises PdfError for a missing, empty, encrypted
    or malformed file and for an invalid template; every other problem is a finding on the document.
    """
    path = Path(path)
    if templates is None or isinstance(templates, (str, Path)):
        loaded = load_templates(templates)
    else:
        loaded = list(templates)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise PdfError(f"{path}: file not found; check the path") from exc
    except OSError as exc:
        raise PdfError(f"{path}: the file cannot be read ({exc.strerror or exc}); check the path and "
                       "its permissions") from exc
    document_id = hashlib.sha256(data).hexdigest()
    try:
        doc = _extract(path, document_id, loaded)
    except PdfError:
        raise
    except PARSE_ERRORS as exc:
        raise PdfError(f"{path}: the PDF cannot be parsed ({type(exc).__name__}: {exc}); ask the sender "
                       "for a new copy or key the document by hand") from exc
    logger.info("extracted %s: kind %s, %d fields, %d line items, %d findings", document_id[:12], doc.kind,
                len(doc.fields), len(doc.line_items), len(doc.findings))
    return doc
