"""Text that mentions ISA is not taken for an interchange header."""

from __future__ import annotations

import pytest

from features.x12 import read_x12_bytes
from workflow.errors import NotX12Error

PROSE = (
    "file\tnotes\n"
    "era.txt\tMedicaid 5010 ERA; 3 ISA; 3 GS; 3 ST; 56 claims; BOM; LF line ends; indented; "
    "comp sep '>'; UTF-8 BOM; CRLF line ends; indented; GE mismatch; IEA mismatch; more; text\n"
)


def test_prose_mentioning_isa_is_not_x12():
    with pytest.raises(NotX12Error):
        list(read_x12_bytes(PROSE.encode(), "notes.tsv"))
