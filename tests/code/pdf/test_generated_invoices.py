"""Field accuracy on generated invoices, per layout, and the properties of the generator itself."""

from collections import Counter

import pytest

from features.pdf import extract_pdf
from training.invoices import LAYOUTS, generate_invoices
from training.invoices.scoring import score_document

ACCURACY_FLOOR = 0.95


@pytest.fixture(scope="module")
def scored(generated):
    results = []
    for path, truth in generated:
        doc = extract_pdf(path)
        results.append((path, truth, doc, score_document(doc, truth)))
    return results


@pytest.mark.parametrize("layout", LAYOUTS)
def test_header_field_accuracy_per_layout(scored, layout):
    scores = [s for _, truth, _, doc_scores in scored if truth["layout"] == layout
              for s in doc_scores if not s.field.startswith("line.")]
    accuracy = sum(s.correct for s in scores) / len(scores)
    print(f"{layout}: header field accuracy {accuracy:.3f} over {len(scores)} fields")
    assert accuracy >= ACCURACY_FLOOR, [s for s in scores if not s.correct]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_line_item_accuracy_per_layout(scored, layout):
    scores = [s for _, truth, _, doc_scores in scored if truth["layout"] == layout
              for s in doc_scores if s.field.startswith("line.")]
    accuracy = sum(s.correct for s in scores) / len(scores)
    print(f"{layout}: line item field accuracy {accuracy:.3f} over {len(scores)} fields")
    assert accuracy >= ACCURACY_FLOOR


def test_multipage_lines_span_pages(scored):
    line_pages = [{row["amount"].page for row in doc.line_items}
                  for _, truth, doc, _ in scored if truth["layout"] == "multipage"]
    assert any(len(pages) > 1 for pages in line_pages)


def test_generated_invoices_add_up(scored):
    codes = Counter(f.code for _, _, doc, _ in scored for f in doc.findings)
    assert codes["pdf.arithmetic_mismatch"] == 0


def test_fields_carry_page_and_position(scored):
    _, _, doc, _ = scored[0]
    total = doc.fields["total"]
    assert total.page == len(doc.pages)
    assert total.bbox is not None
    assert 0 < total.confidence <= 1


def test_generator_covers_every_layout_and_style(generated):
    assert {truth["layout"] for _, truth in generated} == set(LAYOUTS)
    assert {truth["number_style"] for _, truth in generated} == {"us", "eu", "fr", "ch"}


def test_generator_injects_every_discrepancy(generated):
    kinds = {truth["discrepancy"] for _, truth in generated} | {
        "duplicate" for _, truth in generated if truth["duplicate_of"]}
    assert {"price_over_po", "qty_over_received", "missing_po", "unknown_vendor", "duplicate"} <= kinds


def test_same_seed_writes_same_bytes(tmp_path):
    first = generate_invoices(tmp_path / "a", count=3, seed=5)
    second = generate_invoices(tmp_path / "b", count=3, seed=5)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert (tmp_path / "a" / "purchase_orders.csv").read_text() == (tmp_path / "b" / "purchase_orders.csv").read_text()


def test_vendor_template_is_applied(scored):
    templated = {doc.template for _, truth, doc, _ in scored if truth["vendor_id"] in ("V1001", "V1002")}
    assert templated == {"northwind-medical-supply", "lakeside-surgical"}
