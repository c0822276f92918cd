"""Load purchase orders, goods receipts and the vendor master from ERP CSV exports.

ERP exports name their columns differently ("PO Number", "po_no", "EBELN"...), so each loader
recognises columns by header name from a list of known spellings. A missing column or an
unreadable value raises CsvError naming the file, the row (counted as in a spreadsheet, the
header being row 1), the column and the value.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TypeVar

import pandas as pd

from workflow.errors import CsvError
from workflow.invoices.records import (GoodsReceipt, PurchaseOrder, PurchaseOrderLine, ReceiptLine, Vendor)

logger = logging.getLogger(__name__)

__all__ = ["load_purchase_orders", "load_receipts", "load_vendors"]

T = TypeVar("T")

PO_COLUMNS = {
    "po_number": ("po_number", "po", "po_no", "purchase_order", "purchase_order_number", "order_number", "ebeln"),
    "vendor_id": ("vendor_id", "vendor", "vendor_number", "supplier_id", "supplier", "lifnr"),
    "line_number": ("line_number", "line", "po_line", "line_no", "item", "ebelp"),
    "item_code": ("item_code", "sku", "material", "item_number", "part_number", "matnr"),
    "description": ("description", "item_description", "short_text", "txz01"),
    "quantity": ("quantity", "qty", "ordered_quantity", "quantity_ordered", "menge"),
    "unit_price": ("unit_price", "price", "net_price", "netpr"),
    "currency": ("currency", "currency_code", "waers"),
    "order_date": ("order_date", "po_date", "document_date", "bedat"),
}
PO_REQUIRED = ("po_number", "line_number", "quantity", "unit_price")

RECEIPT_COLUMNS = {
    "receipt_id": ("receipt_id", "receipt", "receipt_number", "gr_number", "grn", "mblnr"),
    "po_number": PO_COLUMNS["po_number"],
    "line_number": PO_COLUMNS["line_number"],
    "quantity_received": ("quantity_received", "received_quantity", "qty_received", "received", "quantity", "qty"),
    "received_date": ("received_date", "receipt_date", "posting_date", "gr_date", "budat"),
}
RECEIPT_REQUIRED = ("po_number", "line_number", "quantity_received")

VENDOR_COLUMNS = {
    "vendor_id": PO_COLUMNS["vendor_id"],
    "name": ("name", "vendor_name", "supplier_name", "name1"),
    "tax_id": ("tax_id", "vat_id", "ein", "tin", "stceg"),
    "currency": PO_COLUMNS["currency"],
    "aliases": ("aliases", "alias", "other_names"),
}
VENDOR_REQUIRED = ("vendor_id", "name")


def _normalise_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_")


def _read(path: Path) -> pd.DataFrame:
    try:
        # sep=None lets the sniffer pick comma, semicolon or tab, as ERP exports vary by locale.
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python",
                            encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise CsvError(f"{path}: file not found; check the path") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        raise CsvError(f"{path}: the CSV cannot be read ({exc}); export it again as UTF-8 CSV") from exc
    return frame


def _columns(frame: pd.DataFrame, path: Path, known: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> dict[str, str]:
    by_normal = {_normalise_header(column): column for column in frame.columns}
    found: dict[str, str] = {}
    for name, spellings in known.items():
        for spelling in spellings:
            if spelling in by_normal and by_normal[spelling] not in found.values():
                found[name] = by_normal[spelling]
                break
    missing = [name for name in required if name not in found]
    if missing:
        raise CsvError(
            f"{path}: missing column(s) {', '.join(missing)}; the header has {', '.join(map(str, frame.columns))}. "
            f"Rename the column to one of: " + "; ".join(f"{m}: {', '.join(known[m])}" for m in missing)
        )
    return found


def _cell(frame_row: pd.Series, column: str | None) -> str:
    return "" if column is None else str(frame_row[column]).strip()


def _parse(path: Path, row: int, column: str, value: str, parser: Callable[[str], T], what: str) -> T:
    try:
        return parser(value)
    except (ValueError, InvalidOperation) as exc:
        raise CsvError(f"{path}: row {row}, column {column!r}: invalid {what} {value!r}; fix the value and "
                       "export again") from exc


def _decimal(value: str) -> Decimal:
    # "1,234.50" groups thousands with commas, but a lone comma ("12,5") is a decimal comma.
    grouped = re.fullmatch(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?", value)
    cleaned = value.replace(",", "") if grouped else value.replace(",", ".")
    number = Decimal(cleaned)
    if not number.is_finite():
        raise ValueError(value)
    return number


def _date(value: str) -> dt.date | None:
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise ValueError(value)


def _line_number(value: str) -> int:
    return int(Decimal(value))


def load_purchase_orders(path: str | Path) -> list[PurchaseOrder]:
    """Load purchase orders from a CSV export with one row per PO line."""
    path = Path(path)
    frame = _read(path)
    columns = _columns(frame, path, PO_COLUMNS, PO_REQUIRED)
    lines: dict[str, list[PurchaseOrderLine]] = defaultdict(list)
    headers: dict[str, tuple[str | None, str | None, dt.date | None]] = {}
    for index, record in frame.iterrows():
        row = int(index) + 2
        po_number = _cell(record, columns["po_number"])
        if not po_number:
            raise CsvError(f"{path}: row {row}, column {columns['po_number']!r}: the PO number is empty; fill it in")
        get = lambda name: _cell(record, columns.get(name))  # noqa: E731
        lines[po_number].append(PurchaseOrderLine(
            line_number=_parse(path, row, columns["line_number"], get("line_number"), _line_number, "line number"),
            item_code=get("item_code") or None,
            description=get("description"),
            quantity=_parse(path, row, columns["quantity"], get("quantity"), _decimal, "quantity"),
            unit_price=_parse(path, row, columns["unit_price"], get("unit_price"), _decimal, "unit price"),
        ))
        order_date = _parse(path, row, columns.get("order_date", "order_date"), get("order_date"), _date, "date")
        headers.setdefault(po_number, (get("vendor_id") or None, get("currency") or None, order_date))
    orders = [PurchaseOrder(po, *headers[po], tuple(po_lines)) for po, po_lines in lines.items()]
    logger.info("loaded %d purchase orders from %s", len(orders), path)
    return orders


def load_receipts(path: str | Path) -> list[GoodsReceipt]:
    """Load goods receipts from a CSV export with one row per received PO line."""
    path = Path(path)
    frame = _read(path)
    columns = _columns(frame, path, RECEIPT_COLUMNS, RECEIPT_REQUIRED)
    grouped: dict[tuple[str, str], list[ReceiptLine]] = defaultdict(list)
    dates: dict[tuple[str, str], dt.date | None] = {}
    for index, record in frame.iterrows():
        row = int(index) + 2
        get = lambda name: _cell(record, columns.get(name))  # noqa: E731
        po_number = get("po_number")
        if not po_number:
            raise CsvError(f"{path}: row {row}, column {columns['po_number']!r}: the PO number is empty; fill it in")
        receipt_id = get("receipt_id") or f"{po_number}-row{row}"
        key = (receipt_id, po_number)
        grouped[key].append(ReceiptLine(
            po_line_number=_parse(path, row, columns["line_number"], get("line_number"), _line_number, "line number"),
            quantity_received=_parse(path, row, columns["quantity_received"], get("quantity_received"), _decimal,
                                     "quantity"),
        ))
        dates.setdefault(key, _parse(path, row, columns.get("received_date", "received_date"),
                                     get("received_date"), _date, "date"))
    receipts = [GoodsReceipt(rid, po, dates[(rid, po)], tuple(lines)) for (rid, po), lines in grouped.items()]
    logger.info("loaded %d goods receipts from %s", len(receipts), path)
    return receipts


def load_vendors(path: str | Path) -> list[Vendor]:
    """Load the vendor master: id, name and, where exported, tax id, currency and aliases (``|``-separated)."""
    path = Path(path)
    frame = _read(path)
    columns = _columns(frame, path, VENDOR_COLUMNS, VENDOR_REQUIRED)
    vendors = []
    for index, record in frame.iterrows():
        row = int(index) + 2
        get = lambda name: _cell(record, columns.get(name))  # noqa: E731
        if not get("vendor_id") or not get("name"):
            raise CsvError(f"{path}: row {row}: vendor id and name must both be filled in, found "
                           f"{get('vendor_id')!r} and {get('name')!r}")
        aliases = tuple(a.strip() for a in get("aliases").split("|") if a.strip())
        vendors.append(Vendor(get("vendor_id"), get("name"), get("tax_id") or None, get("currency") or None, aliases))
    logger.info("loaded %d vendors from %s", len(vendors), path)
    return vendors
