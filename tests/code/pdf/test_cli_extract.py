import json

from typer.testing import CliRunner

import serving.commands.extract  # noqa: F401  (registers the command until serving/cli.py imports it)
from serving.cli import app
from training.invoices import generate_invoices


def test_extract_prints_json_with_positions(tmp_path):
    path = generate_invoices(tmp_path, count=1, seed=2)[0]
    result = CliRunner().invoke(app, ["extract", str(path), "--format", "json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["kind"] == "invoice"
    assert document["fields"]["total"]["page"] == 1
    assert len(document["fields"]["total"]["bbox"]) == 4
    assert 0 < document["fields"]["total"]["confidence"] <= 1


def test_extract_bad_file_exits_one(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"not a pdf")
    result = CliRunner().invoke(app, ["extract", str(path)])
    assert result.exit_code == 1
    assert "broken.pdf" in result.output
