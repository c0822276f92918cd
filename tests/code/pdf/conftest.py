"""Fixtures for the PDF tests: a folder of generated invoices with their truth, and small PDFs
written on the spot for the failure paths. All content is invented."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fpdf import FPDF
from PIL import Image

from training.invoices import generate_invoices
from training.invoices.generator import truth_path

SHARED_PDFS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "pdfs"


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> list[tuple[Path, dict]]:
    """Return 18 generated invoices (two of them resent duplicates) with their truth."""
    out = tmp_path_factory.mktemp("generated")
    paths = generate_invoices(out, count=16, seed=11)
    return [(path, json.loads(truth_path(path).read_text())) for path in paths]


@pytest.fixture(scope="session")
def generated_dir(generated) -> Path:
    return generated[0][0].parent.parent


@pytest.fixture()
def shared_pdfs() -> Path:
    if not SHARED_PDFS.is_dir():
        pytest.skip(f"reference samples not found at {SHARED_PDFS.resolve()}")
    return SHARED_PDFS.resolve()


def text_pdf(path: Path, lines: list[str]) -> Path:
    """Write a one-page PDF with the given lines of text, one under the other."""
    pdf = FPDF(unit="pt")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for number, line in enumerate(lines):
        pdf.set_xy(50, 50 + 16 * number)
        pdf.cell(500, 14, line)
    pdf.output(str(path))
    return path


def image_only_pdf(path: Path) -> Path:
    """Write a one-page PDF that holds only a picture, like a scan without OCR."""
    picture = Image.new("RGB", (300, 200), "white")
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(buffer, x=10, y=10, w=150)
    pdf.output(str(path))
    return path
