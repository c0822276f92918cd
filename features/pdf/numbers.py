"""Parse printed amounts and dates in the conventions suppliers use.

Amounts come as ``1,234.56``, ``1.234,56``, ``1 234,56`` or ``1'234.56``, with or without a
currency symbol or code, negative as ``-12.00``, ``12.00-`` or ``(12.00)``. A lone separator
followed by exactly three digits (``1,234`` or ``1.234``) is ambiguous; the document's decimal
convention, counted over all its amounts, decides it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

__all__ = [
    "CURRENCY_SYMBOLS",
    "detect_currency",
    "detect_decimal_separator",
    "looks_like_amount",
    "parse_amount",
    "parse_date",
]

CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "CHF": "CHF", "Fr.": "CHF",
                    "Rs": "INR", "Rs.": "INR", "kr": "SEK"}
CURRENCY_CODES = ("USD", "EUR", "GBP", "CHF", "CAD", "AUD", "JPY", "INR", "SEK", "NOK", "DKK", "PLN", "NZD")

# Symbols and codes that may stand next to an amount; removed before the digits are read.
_CURRENCY_RE = re.compile(r"(?:US\$|C\$|A\$|[$€£¥₹]|\b(?:%s)\b|\bRs\.?|\bFr\.|\bkr\b)" % "|".join(CURRENCY_CODES))
_SPACES_RE = re.compile(r"[\s\u00a0\u202f\u2009]+")
# Western grouping by thousands, Indian lakh grouping (1,39,000) and ungrouped digits.
_AMOUNT_BODY_RE = re.compile(
    r"^\d{1,3}(?:[.,' ’]\d{3})*(?:[.,]\d+)?$|^\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d+)?$|^\d+(?:[.,]\d+)?$"
)
_AMOUNT_TOKEN_RE = re.compile(r"^[-(]?(?:US\$|[$€£¥₹]|Rs\.?|CHF|EUR|USD|GBP)?\s?[-(]?\d[\d.,'’ \u00a0\u202f]*\)?-?$")


def _strip_sign(text: str) -> tuple[str, bool]:
    negative = False
    if text.startswith("(") and text.endswith(")"):
        return text[1:-1].strip(), True
    if text.startswith(("-", "−", "–")):
        text, negative = text[1:].strip(), True
    if text.endswith("-"):
        text, negative = text[:-1].strip(), True
    return text, negative


def _normalise_separators(body: str, decimal_hint: str) -> str | None:
    """Return the body with only digits and a '.' decimal point, or None when it is not a number."""
    body = body.replace("'", "").replace("’", "").replace(" ", "")
    dots, commas = body.count("."), body.count(",")
    if dots and commas:
        decimal = "." if body.rfind(".") > body.rfind(",") else ","
    elif dots + commas == 0:
        return body if body.isdigit() else None
    else:
        separator = "." if dots else ","
        digits_after = len(body) - body.rfind(separator) - 1
        if dots + commas > 1:
            decimal = ""  # several of one kind can only group thousands
        elif digits_after == 3 and decimal_hint != separator and not body.startswith("0" + separator):
            decimal = ""
        else:
            decimal = separator
    thousands = {".": ",", ",": ".", "": ".,"}[decimal]
    for mark in thousands:
        body = body.replace(mark, "")
    if decimal == ",":
        body = body.replace(",", ".")
    return body if re.fullmatch(r"\d+(?:\.\d+)?", body) else None


def parse_amount(text: str | None, *, decimal_hint: str = ".") -> Decimal | None:
    """Read a printed amount as a Decimal, or return None when the text is not one amount.

    ``decimal_hint`` is ``"."`` or ``","``: the document's decimal separator, used only for a lone
    separator followed by three digits.
    """
    if not text:
        return None
    cleaned = _CURRENCY_RE.sub("", text)
    cleaned = _SPACES_RE.sub(" ", cleaned).strip()
    cleaned, negative = _strip_sign(cleaned)
    cleaned = _CURRENCY_RE.sub("", cleaned).strip()
    if not cleaned or not _AMOUNT_BODY_RE.match(cleaned):
        return None
    body = _normalise_separators(cleaned, decimal_hint)
    if body is None:
        return None
    try:
        value = Decimal(body)
    except InvalidOperation:
        return None
    return -value if negative else value


def looks_like_amount(token: str) -> bool:
    """Tell whether one word could be (part of) an amount: digits with separators, a sign or a symbol."""
    return bool(_AMOUNT_TOKEN_RE.match(token)) and any(ch.isdigit() for ch in token)


def detect_decimal_separator(texts: Iterable[str]) -> str:
    """Return ``","`` when most two-decimal amounts in the texts use a decimal comma, else ``"."``."""
    votes: Counter[str] = Counter()
    for text in texts:
        for match in re.finditer(r"\d([.,])\d{2}(?!\d)", text):
            # "1,234.56" contains ",23" too, but that comma is followed by three digits and is skipped.
            votes[match.group(1)] += 1
    return "," if votes[","] > votes["."] else "."


def detect_currency(text: str) -> str | None:
    """Return the ISO code of the currency named most often in the text, or None."""
    counts: Counter[str] = Counter()
    for code in CURRENCY_CODES:
        counts[code] += len(re.findall(rf"\b{code}\b", text))
    for symbol in ("€", "£", "₹", "¥"):
        counts[CURRENCY_SYMBOLS[symbol]] += text.count(symbol)
    counts["USD"] += len(re.findall(r"(?<![A-Z])\$", text))
    counts["INR"] += len(re.findall(r"\bRs\.?\s?\d", text))
    counts["CHF"] += len(re.findall(r"\bFr\.\s?\d", text))
    if not counts or counts.most_common(1)[0][1] == 0:
        return None
    return counts.most_common(1)[0][0]


MONTHS = {
    # English, German, Dutch and French month names and abbreviations.
    "jan": 1, "january": 1, "januar": 1, "januari": 1, "janvier": 1, "jän": 1,
    "feb": 2, "february": 2, "februar": 2, "februari": 2, "février": 2, "fevrier": 2,
    "mar": 3, "march": 3, "märz": 3, "maerz": 3, "maart": 3, "mars": 3, "mrt": 3,
    "apr": 4, "april": 4, "avril": 4,
    "may": 5, "mai": 5, "mei": 5,
    "jun": 6, "june": 6, "juni": 6, "juin": 6,
    "jul": 7, "july": 7, "juli": 7, "juillet": 7,
    "aug": 8, "august": 8, "augustus": 8, "août": 8, "aout": 8,
    "sep": 9, "sept": 9, "september": 9, "septembre": 9,
    "oct": 10, "october": 10, "oktober": 10, "okt": 10, "octobre": 10,
    "nov": 11, "november": 11, "novembre": 11,
    "dec": 12, "december": 12, "dezember": 12, "dez": 12, "décembre": 12, "decembre": 12,
}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_ISO_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_RE = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})\b")
_DAY_MONTH_RE = re.compile(rf"\b(\d{{1,2}})\.?\s*({_MONTH_NAMES})\.?,?\s+(\d{{4}})\b", re.IGNORECASE)
_MONTH_DAY_RE = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(\d{{4}})\b", re.IGNORECASE)


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    if year < 100:
        year += 2000
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _numeric_date(first: int, second: int, year: int, day_first: bool) -> dt.date | None:
    if first > 12:
        return _safe_date(year, second, first)
    if second > 12:
        return _safe_date(year, first, second)
    return _safe_date(year, second, first) if day_first else _safe_date(year, first, second)


def parse_date(text: str | None, *, day_first: bool = False) -> dt.date | None:
    """Read the first date in the text, or return None.

    Numeric dates such as ``03/04/2026`` are ambiguous: ``day_first`` decides them unless one part
    is above 12. Month names may be English, German, Dutch or French.
    """
    if not text:
        return None
    if match := _ISO_RE.search(text):
        return _safe_date(int(match[1]), int(match[2]), int(match[3]))
    if match := _MONTH_DAY_RE.search(text):
        return _safe_date(int(match[3]), MONTHS[match[1].lower()], int(match[2]))
    if match := _DAY_MONTH_RE.search(text):
        return _safe_date(int(match[3]), MONTHS[match[2].lower()], int(match[1]))
    if match := _NUMERIC_RE.search(text):
        # Dotted dates (31.12.2026) are a day-first convention wherever they are printed.
        dotted = "." in match.group(0)
        return _numeric_date(int(match[1]), int(match[2]), int(match[3]), day_first or dotted)
    return None
