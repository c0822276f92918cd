"""Render supplier invoices as PDFs with fpdf2, with the truth beside each one.

Every invoice is written as ``invoices/<name>.pdf``, with ``<name>.json`` in a truth folder beside
the output folder (see :func:`truth_path`) holding what the PDF shows (vendor, numbers, dates, lines, totals), its layout and number style, and the exception
codes the three-way match should raise for it. ``purchase_orders.csv``, ``receipts.csv`` and
``vendors.csv`` hold the ERP side, with discrepancies injected on purpose: a price above the PO,
a quantity above what was received, a missing PO, an unknown vendor and a duplicate invoice.

All vendors, items and numbers are invented. The same seed writes the same files.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from fpdf import FPDF

logger = logging.getLogger(__name__)

__all__ = ["LAYOUTS", "VENDORS", "FakeVendor", "format_amount", "format_date", "generate_invoices"]

LAYOUTS = ("ruled", "plain", "multipage")
CENT = Decimal("0.01")
START = dt.date(2026, 3, 2)


@dataclass(frozen=True, slots=True)
class FakeVendor:
    """An invented supplier with its layout, number style and invoice-number format."""

    vendor_id: str
    name: str
    layout: str
    style: str
    currency: str
    tax_rate: Decimal
    number_format: str
    address: str


VENDORS: tuple[FakeVendor, ...] = (
    FakeVendor("V1001", "Northwind Medical Supply Co.", "ruled", "us", "USD", Decimal("0.0825"),
               "NW-{:06d}", "410 Harbor Road, Springfield, IL 62701"),
    FakeVendor("V1002", "Lakeside Surgical GmbH", "plain", "eu", "EUR", Decimal("0.19"),
               "LS-2026-{:05d}", "Seestrasse 12, 10115 Berlin"),
    FakeVendor("V1003", "Bluebird Clinical Products AG", "multipage", "ch", "CHF", Decimal("0.081"),
               "BCP{:07d}", "Bahnhofplatz 3, 3011 Bern"),
    FakeVendor("V1004", "Harbor Lane Diagnostics SARL", "plain", "fr", "EUR", Decimal("0.20"),
               "HLD-{:05d}", "8 rue des Tilleuls, 69002 Lyon"),
    FakeVendor("V1005", "Maple Ridge Pharma Ltd", "multipage", "us", "USD", Decimal("0.07"),
               "MRP-{:05d}", "77 Cedar Avenue, Portland, OR 97205"),
    FakeVendor("V1006", "Copperleaf Lab Services LLC", "ruled", "eu", "EUR", Decimal("0.21"),
               "CLS{:06d}", "Kanaalweg 5, 3526 KL Utrecht"),
)
UNKNOWN_VENDOR = FakeVendor("V9999", "Quillfeather Linen Services LLC", "ruled", "us", "USD", Decimal("0.06"),
                            "QLS-{:05d}", "15 Mill Street, Dover, DE 19901")

ITEMS = (
    ("GLV-100", "Nitrile exam gloves, size M, box of 100", Decimal("8.40")),
    ("GLV-101", "Nitrile exam gloves, size L, box of 100", Decimal("8.40")),
    ("SYR-305", "Disposable syringe 5 ml with Luer lock, sterile, pack of 50", Decimal("11.25")),
    ("GAU-220", "Sterile gauze pads 10 x 10 cm, 12-ply, box of 200", Decimal("14.90")),
    ("MSK-010", "Surgical face masks type IIR with ear loops, box of 50", Decimal("6.75")),
    ("CAT-818", "Foley catheter 16 Fr two-way silicone coated, 10 ml balloon", Decimal("3.85")),
    ("IVS-150", "IV administration set with roller clamp and injection site, 150 cm", Decimal("2.95")),
    ("TAP-025", "Medical adhesive tape, hypoallergenic, 2.5 cm x 9 m", Decimal("1.60")),
    ("ALC-070", "Alcohol prep pads 70 percent isopropyl, medium, box of 200", Decimal("4.20")),
    ("THR-900", "Digital thermometer probe covers, disposable, box of 1000", Decimal("32.50")),
    ("BPC-300", "Blood pressure cuff, adult reusable, two-tube with bladder", Decimal("27.80")),
    ("SUT-404", "Absorbable suture 4-0 with reverse cutting needle, box of 12", Decimal("96.00")),
    ("ECG-050", "ECG electrodes, foam, pre-gelled, adult, pack of 50", Decimal("9.95")),
    ("SHP-112", "Sharps container 1.5 litre with temporary closure", Decimal("5.10")),
    ("WND-707", "Hydrocolloid wound dressing 10 x 10 cm, bordered, box of 10", Decimal("41.30")),
    ("PMP-600", "Infusion pump service contract, quarterly preventive maintenance per device", Decimal("1250.00")),
)

DISCREPANCIES = ("none", "none", "none", "price_over_po", "qty_over_received", "missing_po", "unknown_vendor",
                 "duplicate")
EXPECTED_CODES = {
    "none": [],
    "price_over_po": ["invoice.price_over_po"],
    "qty_over_received": ["invoice.qty_over_received"],
    "missing_po": ["invoice.missing_po"],
    "unknown_vendor": ["invoice.unknown_vendor"],
    "duplicate": [],
}


def format_amount(value: Decimal, style: str) -> str:
    """Print an amount in a number style: us 1,234.56; eu 1.234,56; fr 1 234,56; ch 1'234.56."""
    text = f"{value:,.2f}"
    if style == "eu":
        return text.replace(",", "_").replace(".", ",").replace("_", ".")
    if style == "fr":
        return text.replace(",", " ").replace(".", ",")
    if style == "ch":
        return text.replace(",", "'")
    return text


def format_money(value: Decimal, vendor: FakeVendor) -> str:
    number = format_amount(value, vendor.style)
    if vendor.currency == "USD":
        return f"${number}"
    return f"{number} {vendor.currency}" if vendor.style in ("eu", "fr") else f"{vendor.currency} {number}"


def format_date(value: dt.date, style: str) -> str:
    """Print a date as the vendor's country does."""
    if style == "us":
        return value.strftime("%m/%d/%Y")
    if style == "fr":
        return value.strftime("%d/%m/%Y")
    return value.strftime("%d.%m.%Y")


@dataclass(slots=True)
class _Line:
    sku: str
    description: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT, ROUND_HALF_UP)

    @property
    def text(self) -> str:
        return f"{self.sku} {self.description}"


@dataclass(slots=True)
class _Invoice:
    name: str
    vendor: FakeVendor
    number: str
    invoice_date: dt.date
    due_date: dt.date
    po_number: str
    lines: list[_Line]
    discrepancy: str
    duplicate_of: str | None = None

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))

    @property
    def tax(self) -> Decimal:
        return (self.subtotal * self.vendor.tax_rate).quantize(CENT, ROUND_HALF_UP)

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4", unit="pt")
        self.set_auto_page_break(False)
        self.set_margins(50, 50, 50)
        # A fixed creation date keeps the bytes the same for the same seed.
        self.set_creation_date(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))


def _header_block(pdf: _Pdf, invoice: _Invoice, labels: dict[str, str]) -> None:
    vendor = invoice.vendor
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_xy(50, 50)
    pdf.cell(300, 20, vendor.name)
    pdf.set_font("Helvetica", "", 9)
    pdf.set_xy(50, 72)
    pdf.cell(300, 12, vendor.address)

    pdf.set_font("Helvetica", "B", 20)
    pdf.set_xy(400, 50)
    pdf.cell(145, 22, "INVOICE", align="R")

    pdf.set_font("Helvetica", "", 10)
    rows = [(labels["number"], invoice.number),
            (labels["date"], format_date(invoice.invoice_date, vendor.style)),
            (labels["due"], format_date(invoice.due_date, vendor.style))]
    if invoice.po_number:
        rows.append((labels["po"], invoice.po_number))
    y = 110
    for label, value in rows:
        pdf.set_xy(330, y)
        pdf.cell(100, 14, label)
        pdf.set_xy(435, y)
        pdf.cell(110, 14, value)
        y += 16

    pdf.set_xy(50, 110)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(200, 14, "Bill to:")
    pdf.set_font("Helvetica", "", 10)
    pdf.set_xy(50, 126)
    pdf.cell(250, 14, "Riverside Community Hospital, Accounts Payable")
    pdf.set_xy(50, 142)
    pdf.cell(250, 14, "1 Hospital Drive, Riverside")


COLUMNS = ((50, 250), (300, 60), (360, 90), (450, 95))


def _table_header(pdf: _Pdf, y: float, headers: tuple[str, ...], ruled: bool) -> float:
    pdf.set_font("Helvetica", "B", 10)
    for (x, width), title in zip(COLUMNS, headers):
        pdf.set_xy(x, y)
        pdf.cell(width, 18, title, border=1 if ruled else 0, align="L" if x == 50 else "R")
    pdf.set_font("Helvetica", "", 10)
    return y + 20


def _draw_row(pdf: _Pdf, y: float, line: _Line, vendor: FakeVendor, ruled: bool, wrapped: list[str]) -> float:
    height = 14 * len(wrapped) + 4
    values = (str(line.quantity), format_amount(line.unit_price, vendor.style), format_amount(line.amount, vendor.style))
    for index, text in enumerate(wrapped):
        pdf.set_xy(52, y + 2 + 14 * index)
        pdf.cell(COLUMNS[0][1] - 4, 14, text)
    for (x, width), text in zip(COLUMNS[1:], values):
        pdf.set_xy(x, y + 2)
        pdf.cell(width - 4, 14, text, align="R")
    if ruled:
        for x, width in COLUMNS:
            pdf.rect(x, y, width, height)
    return y + height


def _totals(pdf: _Pdf, y: float, invoice: _Invoice, labels: dict[str, str]) -> None:
    vendor = invoice.vendor
    rate = f"{vendor.tax_rate * 100:.2f}".rstrip("0").rstrip(".") + "%"
    rows = ((labels["subtotal"], invoice.subtotal), (f"{labels['tax']} ({rate})", invoice.tax),
            (labels["total"], invoice.total))
    for index, (label, value) in enumerate(rows):
        pdf.set_font("Helvetica", "B" if index == 2 else "", 10)
        pdf.set_xy(330, y)
        pdf.cell(120, 16, label)
        pdf.set_xy(450, y)
        pdf.cell(95, 16, format_money(value, vendor), align="R")
        y += 18
    pdf.set_font("Helvetica", "", 8)
    pdf.set_xy(50, y + 20)
    pdf.cell(400, 12, f"Payment terms: 30 days net. Please quote {invoice.number} with your payment.")


LABELS = {
    "ruled": {"number": "Invoice No:", "date": "Invoice Date:", "due": "Due Date:", "po": "PO Number:",
              "subtotal": "Subtotal", "tax": "Tax", "total": "Total",
              "headers": ("Description", "Qty", "Unit Price", "Amount")},
    "plain": {"number": "Invoice #", "date": "Date:", "due": "Payment due:", "po": "Purchase Order:",
              "subtotal": "Net amount", "tax": "VAT", "total": "Total due",
              "headers": ("Item Description", "Quantity", "Price", "Line Total")},
    "multipage": {"number": "Invoice Number", "date": "Invoice Date", "due": "Due Date", "po": "PO No.",
                  "subtotal": "Subtotal", "tax": "Sales Tax", "total": "Invoice Total",
                  "headers": ("Description", "Qty", "Unit Price", "Amount")},
}
PAGE_BOTTOM = 760


def render_invoice(invoice: _Invoice, path: Path) -> None:
    """Draw one invoice in its vendor's layout and save it as a PDF."""
    layout = invoice.vendor.layout
    labels = LABELS[layout]
    ruled = layout == "ruled"
    pdf = _Pdf()
    pdf.add_page()
    _header_block(pdf, invoice, labels)
    y = _table_header(pdf, 190, labels["headers"], ruled)
    pdf.set_font("Helvetica", "", 10)
    for line in invoice.lines:
        wrapped = pdf.multi_cell(COLUMNS[0][1] - 6, 14, line.text, dry_run=True, output="LINES")
        if y + 14 * len(wrapped) + 4 > PAGE_BOTTOM:
            pdf.set_font("Helvetica", "", 8)
            pdf.set_xy(50, PAGE_BOTTOM + 20)
            pdf.cell(300, 12, f"Continued on page {pdf.page_no() + 1}")
            pdf.add_page()
            pdf.set_font("Helvetica", "B", 11)
            pdf.set_xy(50, 50)
            pdf.cell(300, 14, f"{invoice.vendor.name} - {labels['number']} {invoice.number} - page {pdf.page_no()}")
            y = _table_header(pdf, 80, labels["headers"], ruled)
        y = _draw_row(pdf, y, line, invoice.vendor, ruled, wrapped)
    if y + 90 > PAGE_BOTTOM:
        pdf.add_page()
        y = 60
    _totals(pdf, y + 12, invoice, labels)
    pdf.output(str(path))


def _truth(invoice: _Invoice) -> dict:
    return {
        "vendor": invoice.vendor.name,
        "vendor_id": invoice.vendor.vendor_id,
        "invoice_number": invoice.number,
        "invoice_date": invoice.invoice_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "po_number": invoice.po_number or None,
        "currency": invoice.vendor.currency,
        "subtotal": str(invoice.subtotal),
        "tax": str(invoice.tax),
        "total": str(invoice.total),
        "lines": [{"description": line.text, "quantity": str(line.quantity), "unit_price": str(line.unit_price),
                   "amount": str(line.amount)} for line in invoice.lines],
        "layout": invoice.vendor.layout,
        "number_style": invoice.vendor.style,
        "discrepancy": invoice.discrepancy,
        "duplicate_of": invoice.duplicate_of,
        "expected_codes": ["invoice.duplicate"] if invoice.duplicate_of else EXPECTED_CODES[invoice.discrepancy],
    }


def _make_invoice(rng: random.Random, index: int, discrepancy: str, start: dt.date, days: int) -> _Invoice:
    vendor = UNKNOWN_VENDOR if discrepancy == "unknown_vendor" else VENDORS[index % len(VENDORS)]
    if vendor.layout == "multipage":
        # Long enough to run over two or three pages; an item may be ordered on several lines.
        picked = rng.choices(ITEMS, k=rng.randint(22, 34))
    else:
        picked = rng.sample(ITEMS, rng.randint(2, 6))
    lines = []
    for item in picked:
        sku, description, price = item
        lines.append(_Line(sku, description, rng.randint(1, 40) if price < 100 else rng.randint(1, 3), price))
    invoice_date = start + dt.timedelta(days=rng.randint(0, days))
    return _Invoice(
        name=f"invoice_{index + 1:04d}",
        vendor=vendor,
        number=vendor.number_format.format(rng.randint(1, 99999)),
        invoice_date=invoice_date,
        due_date=invoice_date + dt.timedelta(days=30),
        po_number=f"PO-{rng.randint(100000, 999999)}",
        lines=lines,
        discrepancy=discrepancy,
    )


def _reformatted_number(number: str) -> str:
    """Write the same invoice number differently: no punctuation, no leading zeros in the digits."""
    prefix = "".join(ch for ch in number if ch.isalpha())
    digits = "".join(ch for ch in number if ch.isdigit()).lstrip("0")
    return f"{prefix.lower()}{digits}"


def _erp_rows(invoice: _Invoice, rng: random.Random) -> tuple[list[dict], list[dict]]:
    po_rows, receipt_rows = [], []
    if invoice.discrepancy == "missing_po":
        return po_rows, receipt_rows
    skewed = rng.randrange(len(invoice.lines))
    for number, line in enumerate(invoice.lines, start=1):
        price = line.unit_price
        received = line.quantity
        if invoice.discrepancy == "price_over_po" and number - 1 == skewed:
            price = (line.unit_price / Decimal("1.15")).quantize(CENT, ROUND_HALF_UP)
        if invoice.discrepancy == "qty_over_received" and number - 1 == skewed:
            received = max(0, line.quantity - rng.randint(1, max(1, line.quantity // 2)))
        po_rows.append({"po_number": invoice.po_number, "vendor_id": invoice.vendor.vendor_id,
                        "line_number": number, "item_code": line.sku, "description": line.description,
                        "quantity": line.quantity, "unit_price": str(price), "currency": invoice.vendor.currency,
                        "order_date": (invoice.invoice_date - dt.timedelta(days=20)).isoformat()})
        receipt_rows.append({"receipt_id": f"GR-{invoice.po_number[3:]}-{number}", "po_number": invoice.po_number,
                             "line_number": number, "quantity_received": received,
                             "received_date": (invoice.invoice_date - dt.timedelta(days=3)).isoformat()})
    return po_rows, receipt_rows


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def truth_path(pdf_path: Path) -> Path:
    """Return where the truth of a generated invoice PDF is written.

    For ``OUT/invoices/<name>.pdf`` that is ``OUT_truth/<name>.json``, beside the output folder and
    not in it, so running `triage run OUT` reads only the documents.
    """
    out_dir = pdf_path.parent.parent
    return out_dir.parent / f"{out_dir.name}_truth" / f"{pdf_path.stem}.json"


def generate_invoices(out_dir: str | Path, *, count: int, seed: int, start: dt.date = START,
                      days: int = 90) -> list[Path]:
    """Write ``count`` invoice PDFs with truth JSON, and the PO, receipt and vendor CSVs; return the PDFs.

    Invoice dates fall in the ``days`` days from ``start``.

    A ``duplicate`` discrepancy adds one more PDF: a copy of the invoice with the number written
    differently, so ``count`` is a lower bound on the number of PDFs.
    """
    out = Path(out_dir)
    folder = out / "invoices"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    invoices: list[_Invoice] = []
    for index in range(count):
        discrepancy = DISCREPANCIES[index % len(DISCREPANCIES)] if index >= len(VENDORS) else "none"
        invoices.append(_make_invoice(rng, index, discrepancy, start, days))
    for invoice in list(invoices):
        if invoice.discrepancy == "duplicate":
            copy = _Invoice(f"{invoice.name}_resent", invoice.vendor, _reformatted_number(invoice.number),
                            invoice.invoice_date, invoice.due_date, invoice.po_number, invoice.lines, "none",
                            duplicate_of=invoice.number)
            invoices.append(copy)

    po_rows, receipt_rows, paths = [], [], []
    for invoice in invoices:
        pdf_path = folder / f"{invoice.name}.pdf"
        render_invoice(invoice, pdf_path)
        truth = truth_path(pdf_path)
        truth.parent.mkdir(parents=True, exist_ok=True)
        truth.write_text(json.dumps(_truth(invoice), indent=2) + "\n", encoding="utf-8")
        if invoice.duplicate_of is None:
            pos, receipts = _erp_rows(invoice, rng)
            po_rows.extend(pos)
            receipt_rows.extend(receipts)
        paths.append(pdf_path)

    _write_csv(out / "purchase_orders.csv", po_rows, ["po_number", "vendor_id", "line_number", "item_code",
                                                       "description", "quantity", "unit_price", "currency",
                                                       "order_date"])
    _write_csv(out / "receipts.csv", receipt_rows, ["receipt_id", "po_number", "line_number",
                                                    "quantity_received", "received_date"])
    _write_csv(out / "vendors.csv", [{"vendor_id": v.vendor_id, "name": v.name, "currency": v.currency}
                                     for v in VENDORS], ["vendor_id", "name", "currency"])
    logger.info("wrote %d invoice PDFs to %s", len(paths), folder)
    return paths
