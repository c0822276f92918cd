"""Documents and their records: one transaction per document, idempotent, exact money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from workflow.errors import StoreError
from workflow.store import ClaimPaymentMatch, Store
from workflow.store.models import ClaimPaymentRow, ClaimRow, DocumentRow, FindingRow, PaymentRow

OTHER_DOCUMENT = "b" * 64


def _row_counts(store: Store) -> dict[str, int]:
    counts = store.counts()
    return {name: counts[name] for name in ("documents", "claims", "claim_payments", "payments", "findings")}


def test_save_document_stores_every_record(
    store, make_document, make_claim, make_claim_payment, make_payment, make_provider_adjustment, make_finding
) -> None:
    records = [make_claim(), make_claim_payment(), make_payment(), make_provider_adjustment(), make_finding()]

    saved = store.save_document(make_document(), records)

    counts = store.counts()
    assert saved is True
    assert counts["documents"] == 1
    assert counts["claims"] == 1
    assert counts["claim_payments"] == 1
    assert counts["payments"] == 1
    assert counts["provider_adjustments"] == 1
    assert counts["findings"] == 1


def test_save_document_twice_writes_once(store, make_document, make_claim) -> None:
    store.save_document(make_document(), [make_claim()])

    saved_again = store.save_document(make_document(), [make_claim(), make_claim("CLM-002", segment_index=30)])

    assert saved_again is False
    assert store.counts()["claims"] == 1


def test_save_document_keeps_file_name_only(store, make_document) -> None:
    store.save_document(make_document(file="/srv/inbox/2024/remit.835"), [])

    with store.engine.connect() as connection:
        file_name = connection.execute(select(DocumentRow.file_name)).scalar_one()

    assert file_name == "remit.835"


def test_save_document_records_run(store, make_document) -> None:
    run_id = store.start_run()

    store.save_document(make_document(), [], run_id=run_id)

    with store.engine.connect() as connection:
        stored_run_id = connection.execute(select(DocumentRow.run_id)).scalar_one()
    assert stored_run_id == run_id


def test_claim_row_keeps_whole_record(store, make_document, make_claim) -> None:
    store.save_document(make_document(), [make_claim()])

    with store.engine.connect() as connection:
        row = connection.execute(select(ClaimRow)).one()

    assert row.data["claim_id"] == "CLM-001"
    assert row.data["total_charge"] == "125.40"
    assert row.data["diagnosis_codes"] == ["R05.9"]
    assert row.service_date == dt.date(2024, 3, 4)


def test_finding_row_keeps_position(store, make_document, make_finding) -> None:
    store.save_document(make_document(), [make_finding()])

    with store.engine.connect() as connection:
        row = connection.execute(select(FindingRow)).one()

    assert row.code == "rule.npi_check_digit"
    assert row.severity == "error"
    assert row.element == "NM109"
    assert row.source["segment_index"] == 12
    assert row.source["file"] == "claims_837p.txt"


def test_invalid_amount_rolls_back_document(store, make_document, make_claim) -> None:
    records = [make_claim(), make_claim("CLM-002", segment_index=30, total_charge=Decimal("10.005"))]

    with pytest.raises(StoreError, match="more than 2 decimal places"):
        store.save_document(make_document(), records)

    assert set(_row_counts(store).values()) == {0}


def test_constraint_violation_rolls_back_document(store, make_document, make_claim, make_claim_payment) -> None:
    # Two claim payments at one segment break the (document_id, segment_index) key in the
    # database itself, after the document and the claim rows were already sent.
    records = [make_claim(), make_claim_payment("CLM-001"), make_claim_payment("CLM-002")]

    with pytest.raises(StoreError, match="save document"):
        store.save_document(make_document(), records)

    assert set(_row_counts(store).values()) == {0}


def test_unknown_record_type_writes_nothing(store, make_document) -> None:
    with pytest.raises(TypeError, match="cannot store a str"):
        store.save_document(make_document(), ["not a record"])

    assert store.counts()["documents"] == 0


def test_unknown_run_rolls_back_document(store, make_document, make_claim) -> None:
    with pytest.raises(StoreError):
        store.save_document(make_document(), [make_claim()], run_id="no-such-run")

    assert set(_row_counts(store).values()) == {0}


def test_failed_document_stored_once(store, make_document) -> None:
    failed = make_document(status="read", error="no ISA segment found")

    first = store.record_failed_document(failed)
    second = store.record_failed_document(failed)

    with store.engine.connect() as connection:
        row = connection.execute(select(DocumentRow)).one()
    assert first is True
    assert second is False
    assert row.status == "failed"
    assert row.error == "no ISA segment found"


MONEY_VALUES = [
    Decimal("0.00"),
    Decimal("0.01"),
    Decimal("0.10"),
    Decimal("-15.25"),
    Decimal("125.40"),
    Decimal("1000.01"),
    Decimal("2.67"),
    Decimal("123456789.99"),
    Decimal("999999999999.99"),
    Decimal("-999999999999.99"),
    Decimal("7"),
]


@pytest.mark.parametrize("amount", MONEY_VALUES, ids=str)
def test_money_round_trips_exactly(store, make_document, make_claim, amount: Decimal) -> None:
    store.save_document(make_document(), [make_claim(total_charge=amount)])

    stored = store.find_claims(["CLM-001"])["CLM-001"][0].total_charge

    assert isinstance(stored, Decimal)
    assert stored == amount
    assert stored.as_tuple().exponent == -2


@pytest.mark.parametrize(
    "amount",
    [Decimal("1.001"), Decimal("NaN"), Decimal("Infinity"), Decimal("1000000000000.00")],
    ids=str,
)
def test_unstorable_money_raises_store_error(store, make_document, make_claim, amount: Decimal) -> None:
    with pytest.raises(StoreError, match="money"):
        store.save_document(make_document(), [make_claim(total_charge=amount)])


def test_float_money_raises_store_error(store, make_document, make_claim) -> None:
    with pytest.raises(StoreError, match="Decimal"):
        store.save_document(make_document(), [make_claim(total_charge=125.4)])


def test_claim_payment_amounts_round_trip(store, make_document, make_claim_payment) -> None:
    payment = make_claim_payment(charge=Decimal("250.10"), paid=Decimal("199.99"), patient_responsibility=None)
    store.save_document(make_document(), [payment])

    with store.engine.connect() as connection:
        row = connection.execute(select(ClaimPaymentRow)).one()

    assert row.charge == Decimal("250.10")
    assert row.paid == Decimal("199.99")
    assert row.patient_responsibility is None


def test_payment_row_keeps_trace_number(store, make_document, make_payment) -> None:
    store.save_document(make_document(), [make_payment()])

    with store.engine.connect() as connection:
        row = connection.execute(select(PaymentRow)).one()

    assert row.trace_number == "TRACE-1"
    assert row.amount == Decimal("1000.01")


def test_find_claims_groups_by_claim_id(store, make_document, make_claim) -> None:
    store.save_document(make_document(), [make_claim(), make_claim("CLM-002", segment_index=30)])
    store.save_document(
        make_document(OTHER_DOCUMENT), [make_claim(document_id=OTHER_DOCUMENT, frequency_code="7")]
    )

    found = store.find_claims(["CLM-001", "CLM-404"])

    assert set(found) == {"CLM-001"}
    assert [claim.document_id for claim in found["CLM-001"]] == ["a" * 64, OTHER_DOCUMENT]
    assert found["CLM-001"][1].frequency_code == "7"
    assert found["CLM-001"][0].total_charge == Decimal("125.40")


def _matched_claim_pk(store: Store) -> int | None:
    with store.engine.connect() as connection:
        return connection.execute(select(ClaimPaymentRow.matched_claim_pk)).scalar_one()


def test_save_matches_by_claim_pk(store, make_document, make_claim, make_claim_payment) -> None:
    store.save_document(make_document(), [make_claim(), make_claim_payment()])
    claim_pk = store.find_claims(["CLM-001"])["CLM-001"][0].pk

    updated = store.save_matches([ClaimPaymentMatch("a" * 64, 20, claim_pk=claim_pk)])

    assert updated == 1
    assert _matched_claim_pk(store) == claim_pk


def test_save_matches_by_claim_position(store, make_document, make_claim, make_claim_payment) -> None:
    store.save_document(make_document(), [make_claim(), make_claim_payment()])
    claim_pk = store.find_claims(["CLM-001"])["CLM-001"][0].pk

    store.save_matches([ClaimPaymentMatch("a" * 64, 20, claim_document_id="a" * 64, claim_segment_index=10)])

    assert _matched_claim_pk(store) == claim_pk


def test_save_matches_unknown_payment_changes_nothing(store, make_document, make_claim, make_claim_payment) -> None:
    store.save_document(make_document(), [make_claim(), make_claim_payment()])
    claim_pk = store.find_claims(["CLM-001"])["CLM-001"][0].pk
    matches = [ClaimPaymentMatch("a" * 64, 20, claim_pk=claim_pk), ClaimPaymentMatch("a" * 64, 999, claim_pk=claim_pk)]

    with pytest.raises(StoreError, match="no claim payment at segment 999"):
        store.save_matches(matches)

    assert _matched_claim_pk(store) is None


def test_save_matches_unknown_claim_raises(store, make_document, make_claim_payment) -> None:
    store.save_document(make_document(), [make_claim_payment()])

    with pytest.raises(StoreError, match="no claim at segment 10"):
        store.save_matches([ClaimPaymentMatch("a" * 64, 20, claim_document_id="a" * 64, claim_segment_index=10)])


def test_save_matches_unknown_claim_pk_raises(store, make_document, make_claim_payment) -> None:
    store.save_document(make_document(), [make_claim_payment()])

    with pytest.raises(StoreError, match="save payment matches"):
        store.save_matches([ClaimPaymentMatch("a" * 64, 20, claim_pk=9999)])
