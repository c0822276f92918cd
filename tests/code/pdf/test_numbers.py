import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.pdf.numbers import detect_currency, detect_decimal_separator, parse_amount, parse_date
from training.invoices.generator import format_amount


@pytest.mark.parametrize(("text", "expected"), [
    ("1,234.56", "1234.56"),
    ("1.234,56", "1234.56"),
    ("1 234,56", "1234.56"),
    ("1'234.56", "1234.56"),
    ("$ 42.00", "42.00"),
    ("€ 399,00", "399.00"),
    ("USD 1,000.00", "1000.00"),
    ("CHF 12'500.00", "12500.00"),
    ("(12.00)", "-12.00"),
    ("12.00-", "-12.00"),
    ("-9,32", "-9.32"),
    ("0.125", "0.125"),
    ("1,39,000", "139000"),
])
def test_amount_conventions_parse(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["abc", "15.00%", "1.00 kg", "", "12/05/2026"])
def test_non_amounts_return_none(text):
    assert parse_amount(text) is None


def test_lone_separator_follows_document_convention():
    assert parse_amount("1.234", decimal_hint=".") == Decimal("1.234")
    assert parse_amount("1.234", decimal_hint=",") == Decimal("1234")
    assert parse_amount("1,234", decimal_hint=",") == Decimal("1.234")


@given(st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False),
       st.sampled_from(["us", "eu", "fr", "ch"]))
def test_printed_amounts_round_trip(value, style):
    decimal = "," if style in ("eu", "fr") else "."
    assert parse_amount(format_amount(value, style), decimal_hint=decimal) == value


@pytest.mark.parametrize(("text", "day_first", "expected"), [
    ("August 3 , 2014", False, dt.date(2014, 8, 3)),
    ("7. Mai 2014", False, dt.date(2014, 5, 7)),
    ("19 april 2014", False, dt.date(2014, 4, 19)),
    ("Jan 1, 2022", False, dt.date(2022, 1, 1)),
    ("03/04/2026", False, dt.date(2026, 3, 4)),
    ("03/04/2026", True, dt.date(2026, 4, 3)),
    ("31/12/2017", False, dt.date(2017, 12, 31)),
    ("10.04.2026", False, dt.date(2026, 4, 10)),
    ("21.05.14", False, dt.date(2014, 5, 21)),
    ("2026-03-04", True, dt.date(2026, 3, 4)),
])
def test_date_formats_parse(text, day_first, expected):
    assert parse_date(text, day_first=day_first) == expected


def test_impossible_date_returns_none():
    assert parse_date("31/31/2026") is None


def test_decimal_comma_detected_by_majority():
    assert detect_decimal_separator(["3,89", "5,39", "Total 34,73"]) == ","
    assert detect_decimal_separator(["1,234.56", "$7.50"]) == "."


def test_currency_detected_from_symbols():
    assert detect_currency("Total € 22,50 and € 3,90") == "EUR"
    assert detect_currency("Amount due $4.11") == "USD"
    assert detect_currency("no money here") is None
