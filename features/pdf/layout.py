"""Open a PDF safely, judge each page's text layer, and group its words into lines.

pdfplumber gives words with positions. Invoices are read line by line, so words whose tops lie
within a few points of each other are joined into a :class:`Line` that keeps each word's box.
"""

from __future__ import annotations

import collections
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
from pdfplumber.page import Page
from pdfplumber.pdf import PDF
from pdfplumber.utils.exceptions import PdfminerException
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.psparser import PSException

from features.pdf.document import BBox, PageInfo
from features.pdf.numbers import looks_like_amount
from workflow.errors import PdfError

logger = logging.getLogger(__name__)

__all__ = ["Line", "Word", "page_info", "page_lines", "open_pdf"]

CURRENCY_WORDS = frozenset({"$", "€", "£", "¥", "₹", "Rs", "Rs.", "CHF", "EUR", "USD", "GBP"})

MIN_TEXT_CHARS = 20
"""Fewer characters than this on a page cannot carry an invoice: the page is treated as an image."""

SPARSE_TEXT_CHARS = 100
"""Below this many characters, a page that also contains an image or many vector paths is a scan or a
form drawn as outlines, with at most a stray line of real text."""

MIN_LETTER_ENTROPY = 2.5
"""Shannon entropy (bits) of the Latin letter distribution below which text is a scrambled font
mapping. Text in English, German or Dutch measures about 4.0-4.3 bits. A font whose glyphs all map
to a few letters ("Agaaaaa: AAAA") measures under 1.5."""

MAX_BAD_CHAR_SHARE = 0.3
"""Share of ``(cid:N)``, control, private-use or replacement characters above which text is garbage."""


@dataclass(frozen=True, slots=True)
class Word:
    """One word on a page with its box in points from the top-left corner."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.top, self.x1, self.bottom)

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True, slots=True)
class Line:
    """Words that share a baseline, left to right, on one page (1-based ``page``)."""

    page: int
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def top(self) -> float:
        return min(word.top for word in self.words)

    @property
    def bottom(self) -> float:
        return max(word.bottom for word in self.words)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1

    @property
    def bbox(self) -> BBox:
        return (self.x0, self.top, self.x1, self.bottom)


def _opening_error(path: Path, exc: BaseException) -> PdfError:
    cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
    if isinstance(cause, (PDFPasswordIncorrect, PDFEncryptionError)):
        return PdfError(f"{path}: the PDF is encrypted and needs a password; ask the sender for an "
                        "unprotected copy or remove the password, then read it again")
    return PdfError(f"{path}: the file is not a readable PDF ({type(cause).__name__}: {cause}); "
                    "ask the sender to send the document again")


def open_pdf(path: Path) -> PDF:
    """Open a PDF with pdfplumber, raising PdfError for an empty, encrypted or malformed file."""
    if not path.is_file():
        raise PdfError(f"{path}: file not found; check the path")
    if path.stat().st_size == 0:
        raise PdfError(f"{path}: the file is empty (0 bytes); ask the sender to send the document again")
    try:
        pdf = pdfplumber.open(path)
        if len(pdf.pages) == 0:
            pdf.close()
            raise PdfError(f"{path}: the PDF has no pages; ask the sender to send the document again")
    except PdfError:
        raise
    except (PdfminerException, PSException, ValueError, TypeError, KeyError, AttributeError,
            IndexError, AssertionError, RecursionError) as exc:
        # pdfminer raises a wide range of errors on broken files, and each means the same to a caller.
        raise _opening_error(path, exc) from exc
    return pdf


def _letter_entropy(text: str) -> tuple[float, int]:
    letters = [ch.lower() for ch in text if ch.isascii() and ch.isalpha()]
    if not letters:
        return 0.0, 0
    counts = collections.Counter(letters)
    total = len(letters)
    return -sum(n / total * math.log2(n / total) for n in counts.values()), total


def _bad_char_share(chars: list[dict[str, Any]]) -> float:
    bad = 0
    for char in chars:
        text = char.get("text", "")
        if text.startswith("(cid:") or text == "\ufffd":
            bad += 1
        elif text and unicodedata.category(text[0]) in ("Cc", "Co", "Cn", "Cs"):
            bad += 1
    return bad / len(chars) if chars else 0.0


def _garbled_reason(chars: list[dict[str, Any]]) -> str | None:
    share = _bad_char_share(chars)
    if share > MAX_BAD_CHAR_SHARE:
        return f"{share:.0%} of the characters are (cid:N) codes, control or private-use characters"
    entropy, letters = _letter_entropy("".join(char.get("text", "") for char in chars))
    if letters >= 100 and entropy < MIN_LETTER_ENTROPY:
        return f"the letters look scrambled (letter entropy {entropy:.2f} bits, normal text is about 4)"
    return None


def page_info(page: Page) -> PageInfo:
    """Judge whether a page's text layer is present and readable."""
    chars = page.chars
    count = len(chars)
    drawn = len(page.images) > 0 or len(page.curves) + len(page.lines) >= 200
    reason = None
    has_text = True
    if count < MIN_TEXT_CHARS:
        has_text, reason = False, f"the page has {count} characters of text"
    elif count < SPARSE_TEXT_CHARS and drawn:
        has_text = False
        reason = f"the page has only {count} characters of text; the rest is an image or vector outlines"
    garbled_reason = _garbled_reason(chars) if has_text else None
    upright = sum(1 for char in chars if char.get("upright", True))
    if has_text and not garbled_reason and upright < count / 2:
        reason = "most text runs vertically; lines are read as printed, which may split values"
    return PageInfo(
        number=page.page_number,
        has_text_layer=has_text,
        chars=count,
        garbled=garbled_reason is not None,
        rotation=int(page.rotation or 0) % 360,
        width=float(page.width),
        height=float(page.height),
        reason=garbled_reason or reason,
    )


def _merge_split_amounts(words: list[Word]) -> list[Word]:
    """Join a currency symbol to its amount and space-grouped thousands ("1 234,56") into one word.

    Words come apart at every space, but a space inside an amount is narrower than the gap between
    columns, so only pieces closer than half the text height are joined.
    """
    merged: list[Word] = []
    for word in words:
        if merged:
            previous = merged[-1]
            gap = word.x0 - previous.x1
            close = gap <= max(previous.height, word.height) * 0.5
            symbol_then_number = previous.text in CURRENCY_WORDS and looks_like_amount(word.text)
            grouped = (re.fullmatch(r"[-$€£]?\d{1,3}", previous.text) is not None
                       and re.fullmatch(r"\d{3}(?:[.,]\d+)?", word.text) is not None)
            if close and (symbol_then_number or grouped):
                merged[-1] = Word(f"{previous.text} {word.text}", previous.x0, min(previous.top, word.top),
                                  word.x1, max(previous.bottom, word.bottom))
                continue
        merged.append(word)
    return merged


def page_lines(page: Page) -> list[Line]:
    """Group a page's words into lines, top to bottom and left to right."""
    raw = page.extract_words(x_tolerance=2, y_tolerance=3, keep_blank_chars=False, use_text_flow=False)
    words = sorted((Word(w["text"], float(w["x0"]), float(w["top"]), float(w["x1"]), float(w["bottom"]))
                    for w in raw), key=lambda w: (w.top, w.x0))
    rows: list[list[Word]] = []
    for word in words:
        tolerance = max(2.0, word.height * 0.45)
        if rows and abs(rows[-1][0].top - word.top) <= tolerance:
            rows[-1].append(word)
        else:
            rows.append([word])
    lines = []
    for row in rows:
        ordered = sorted(row, key=lambda w: w.x0)
        lines.append(Line(page.page_number, tuple(_merge_split_amounts(ordered))))
    return lines
