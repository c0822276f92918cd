"""Values typed into a fillable form live in AcroForm fields, not in the page text."""

from features.pdf import extract_pdf


def _form_pdf(fields: dict[str, str]) -> bytes:
    """Build a one-page PDF whose AcroForm contains text fields with the given values."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [%s] >> >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [%s] >>",
    ]
    refs = []
    for index, (name, value) in enumerate(fields.items()):
        number = 4 + index
        refs.append(f"{number} 0 R".encode())
        top = 700 - 30 * index
        objects.append(f"<< /Type /Annot /Subtype /Widget /FT /Tx /T ({name}) /V ({value}) /P 3 0 R "
                       f"/Rect [100 {top} 300 {top + 20}] >>".encode())
    objects[0] = objects[0] % b" ".join(refs)
    objects[2] = objects[2] % b" ".join(refs)
    body = b"%PDF-1.4\n"
    offsets = []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return body


def test_form_field_values_are_read(tmp_path):
    path = tmp_path / "cms1500_filled.pdf"
    path.write_bytes(_form_pdf({"pt_account": "ACCT-42", "tot_charge": "992.00", "cpt1": "99213"}))
    doc = extract_pdf(path)
    assert doc.form_fields["pt_account"].value == "ACCT-42"
    assert doc.form_fields["tot_charge"].value == "992.00"
    assert doc.form_fields["cpt1"].page == 1


def test_form_field_position_counts_from_top(tmp_path):
    path = tmp_path / "form.pdf"
    path.write_bytes(_form_pdf({"amount": "10.00"}))
    x0, top, x1, bottom = extract_pdf(path).form_fields["amount"].bbox
    assert (x0, x1) == (100.0, 300.0)
    assert top == 792 - 720
    assert bottom == 792 - 700


def test_form_without_text_layer_keeps_warning(tmp_path):
    path = tmp_path / "form.pdf"
    path.write_bytes(_form_pdf({"amount": "10.00"}))
    (finding,) = [f for f in extract_pdf(path).findings if f.code == "pdf.no_text_layer"]
    assert finding.severity.value == "warning"
    assert "form fields were read" in finding.message
