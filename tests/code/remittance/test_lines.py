"""Line matching: line control number, originally billed code, then code, date and charge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.factories import make_line, make_service_payment
from workflow.remittance.lines import match_lines


def test_line_control_number_matches_first():
    lines = (make_line(line_number=1, line_control_number="A"), make_line(line_number=2, line_control_number="B"))
    service = make_service_payment(line_control_number="B")

    (match,) = match_lines([service], lines)

    assert match.claim_line_number == 2
    assert match.key == "line_control_number"
    assert match.confidence == 0.99


def test_original_billed_code_matches_recoded_line():
    line = make_line(procedure_code="99214", line_control_number=None)
    service = make_service_payment(procedure_code="99213", original_procedure_code="99214", line_control_number=None)

    (match,) = match_lines([service], [line])

    assert match.key == "original_code+service_date"
    assert match.claim_line_number == 1


def test_dropped_modifier_still_matches():
    line = make_line(modifiers=("25",), line_control_number=None)
    service = make_service_payment(modifiers=(), line_control_number=None)

    (match,) = match_lines([service], [line])

    assert match.key == "code+service_date+charge"
    assert match.confidence == 0.8


def test_each_claim_line_used_once():
    line = make_line(line_control_number=None)
    first = make_service_payment(line_control_number=None)
    second = make_service_payment(line_control_number=None)

    matches = match_lines([first, second], [line])

    assert [m.claim_line_number for m in matches] == [1, None]
    assert matches[1].key is None


def test_other_date_leaves_line_unmatched():
    line = make_line(line_control_number=None)
    service = make_service_payment(line_control_number=None, service_date_from=dt.date(2026, 10, 9))

    (match,) = match_lines([service], [line])

    assert match.claim_line_number is None


def test_reversed_line_matches_by_absolute_charge():
    line = make_line(line_control_number=None)
    service = make_service_payment(line_control_number=None, charge=Decimal("-100.00"), paid=Decimal("-80.00"))

    (match,) = match_lines([service], [line])

    assert match.claim_line_number == 1
