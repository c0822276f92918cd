"""Read supplier invoices, remittance advice and claim forms from PDF files with pdfplumber.

``extract_pdf(path)`` returns an :class:`ExtractedDocument`. It has named fields with their page,
position and confidence, line items or claims, and the quality of each page's text layer. Its
findings list unreadable pages, totals that do not add up and fields not found.
"""

from features.pdf.document import DOCUMENT_KINDS, ExtractedDocument, ExtractedField, PageInfo
from features.pdf.extract import classify_kind, extract_pdf
from features.pdf.templates import Template, TemplateError, load_templates

__all__ = [
    "DOCUMENT_KINDS",
    "ExtractedDocument",
    "ExtractedField",
    "PageInfo",
    "Template",
    "TemplateError",
    "classify_kind",
    "extract_pdf",
    "load_templates",
]
