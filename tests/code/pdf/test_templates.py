import pytest

from features.pdf import TemplateError, extract_pdf, load_templates
from tests.code.pdf.conftest import text_pdf


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_templates_load():
    names = {template.name for template in load_templates()}
    assert {"northwind-medical-supply", "lakeside-surgical"} <= names


def test_bad_regex_names_file_and_field(tmp_path):
    path = _write(tmp_path / "broken.yaml", 'vendor: X\nmatch: "X"\nfields:\n  total:\n    anchor: "(unclosed"\n')
    with pytest.raises(TemplateError, match=r"broken.yaml: field 'total'.*invalid regex"):
        load_templates(path)


def test_unknown_field_is_rejected(tmp_path):
    path = _write(tmp_path / "odd.yaml", 'vendor: X\nmatch: "X"\nfields:\n  colour:\n    pattern: "red"\n')
    with pytest.raises(TemplateError, match="unknown field"):
        load_templates(path)


def test_missing_match_key_is_rejected(tmp_path):
    path = _write(tmp_path / "nomatch.yaml", "vendor: X\n")
    with pytest.raises(TemplateError, match="missing the 'match' key"):
        load_templates(path)


def test_template_region_and_pattern_win(tmp_path):
    template = _write(tmp_path / "pinecone.yaml", "\n".join([
        "vendor: Pinecone Test Supplies",
        'match: "Pinecone Test"',
        "fields:",
        "  invoice_number:",
        '    pattern: "Ref\\\\s+(PX\\\\d+)"',
        "  total:",
        "    region: [40, 80, 400, 100]",
    ]) + "\n")
    pdf = text_pdf(tmp_path / "pinecone.pdf", ["Pinecone Test Supplies", "Ref PX4411 of this month", "99.50",
                                                "Invoice Date: 2026-02-03"])
    doc = extract_pdf(pdf, templates=template)
    assert doc.template == "pinecone"
    assert doc.fields["invoice_number"].value == "PX4411"
    assert str(doc.fields["total"].amount) == "99.50"
    assert doc.fields["vendor"].value == "Pinecone Test Supplies"
    assert doc.fields["invoice_date"].method == "label_right"
