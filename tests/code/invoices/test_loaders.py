from decimal import Decimal

import pytest

from workflow.errors import CsvError
from workflow.invoices import load_purchase_orders, load_receipts, load_vendors


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_purchase_orders_group_lines(tmp_path):
    path = _write(tmp_path / "po.csv", "po_number,vendor_id,line_number,description,quantity,unit_price\n"
                                       "PO-1,V1,1,Gloves,10,8.40\nPO-1,V1,2,Masks,5,6.75\nPO-2,V2,1,Tape,3,1.60\n")
    orders = {order.po_number: order for order in load_purchase_orders(path)}
    assert len(orders["PO-1"].lines) == 2
    assert orders["PO-1"].lines[1].unit_price == Decimal("6.75")
    assert orders["PO-2"].vendor_id == "V2"


def test_erp_header_spellings_are_recognised(tmp_path):
    path = _write(tmp_path / "export.csv", "EBELN;LIFNR;EBELP;TXZ01;MENGE;NETPR\n4500001;V9;10;Gloves;12;8,40\n")
    (order,) = load_purchase_orders(path)
    assert order.po_number == "4500001"
    assert order.lines[0].line_number == 10
    assert order.lines[0].unit_price == Decimal("8.40")


def test_missing_column_names_the_options(tmp_path):
    path = _write(tmp_path / "po.csv", "po_number,line_number,quantity\nPO-1,1,3\n")
    with pytest.raises(CsvError, match=r"po.csv: missing column\(s\) unit_price"):
        load_purchase_orders(path)


def test_bad_value_names_row_column_and_value(tmp_path):
    path = _write(tmp_path / "po.csv", "po_number,line_number,quantity,unit_price\nPO-1,1,3,8.40\nPO-1,2,three,1.00\n")
    with pytest.raises(CsvError, match=r"po.csv: row 3, column 'quantity': invalid quantity 'three'"):
        load_purchase_orders(path)


def test_receipts_sum_by_receipt(tmp_path):
    path = _write(tmp_path / "gr.csv", "receipt_id,po_number,line_number,quantity_received,received_date\n"
                                       "GR-1,PO-1,1,4,2026-03-01\nGR-1,PO-1,2,5,2026-03-01\n")
    (receipt,) = load_receipts(path)
    assert [line.quantity_received for line in receipt.lines] == [Decimal("4"), Decimal("5")]
    assert receipt.received_date.isoformat() == "2026-03-01"


def test_bad_receipt_date_is_reported(tmp_path):
    path = _write(tmp_path / "gr.csv", "po_number,line_number,quantity_received,received_date\nPO-1,1,4,yesterday\n")
    with pytest.raises(CsvError, match="row 2, column 'received_date': invalid date 'yesterday'"):
        load_receipts(path)


def test_vendor_aliases_split_on_bar(tmp_path):
    path = _write(tmp_path / "vendors.csv", "vendor_id,name,aliases\nV1,Northwind Medical Supply Co.,NW Medical|Northwind\n")
    (vendor,) = load_vendors(path)
    assert vendor.aliases == ("NW Medical", "Northwind")


def test_missing_file_raises_csv_error(tmp_path):
    with pytest.raises(CsvError, match="file not found"):
        load_vendors(tmp_path / "absent.csv")
