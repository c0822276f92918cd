"""Tests of the claims-history simulator: determinism, X12 envelopes and balancing, codes, truth."""

from __future__ import annotations

import collections
import csv
import dataclasses
import datetime as dt
import hashlib
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import simple_icd_10_cm

from training.simulator import SimulationConfig, SimulationResult, simulate
from training.simulator.codes import BILLABLE_ICD10, INVALID_ICD10, PROCEDURE_CODES
from training.simulator.habits import CODE_CATALOGUE, DUPLICATE_VARIANTS, GENERIC_VARIANTS
from training.simulator.outcomes import CONFUSABLE_TYPES
from training.simulator.parameters import load_parameters
from training.simulator.world import CAUSE_TO_TYPE, base_cause_shares, npi_check_digit
from training.simulator.x12_writer import format_amount
from workflow.taxonomy import EXCEPTION_TYPES, PRIORITIES, RESOLUTIONS

PROJECT_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = PROJECT_ROOT / ".." / "shared" / "data"
SMALL = SimulationConfig(seed=11, months=2, claims_per_month=250)

# Resolutions that fit each root cause. An abandoned row may also be a write_off, whatever its cause.
FITTING_RESOLUTIONS = {
    "eligibility_registration": {"update_eligibility_and_rebill", "correct_and_resubmit", "appeal"},
    "coordination_of_benefits": {"bill_secondary_payer", "update_eligibility_and_rebill"},
    "missing_information": {"correct_and_resubmit", "submit_documentation"},
    "authorization": {"obtain_authorization", "appeal"},
    "medical_necessity": {"appeal", "submit_documentation"},
    "non_covered_service": {"write_off", "appeal"},
    "timely_filing": {"write_off", "appeal"},
    "coding": {"correct_and_resubmit", "appeal"},
    "duplicate": {"void_duplicate"},
    "underpayment": {"contact_payer", "appeal"},
    "remittance_mismatch": {"contact_payer", "post_adjustment"},
}


def segments_of(path: Path) -> list[list[str]]:
    """Split an X12 file written by the simulator into segments of elements."""
    text = path.read_text(encoding="ascii")
    return [raw.strip().split("*") for raw in text.split("~") if raw.strip()]


def transactions_of(segments: list[list[str]]) -> list[list[list[str]]]:
    """Group the segments from each ST to its SE."""
    result, current = [], None
    for segment in segments:
        if segment[0] == "ST":
            current = [segment]
        elif current is not None:
            current.append(segment)
            if segment[0] == "SE":
                result.append(current)
                current = None
    return result


def file_digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(SMALL, tmp_path_factory.mktemp("simulation"))


@pytest.fixture(scope="module")
def claim_ids_837(run: SimulationResult) -> collections.Counter[str]:
    counter: collections.Counter[str] = collections.Counter()
    for path in run.claim_files:
        counter.update(segment[1] for segment in segments_of(path) if segment[0] == "CLM")
    return counter


@pytest.fixture(scope="module")
def clp_by_claim(run: SimulationResult) -> dict[str, list[list[str]]]:
    result: dict[str, list[list[str]]] = collections.defaultdict(list)
    for path in run.remittance_files:
        for segment in segments_of(path):
            if segment[0] == "CLP":
                result[segment[1]].append(segment)
    return result


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_same_bytes(run: SimulationResult, tmp_path: Path) -> None:
    again = simulate(SMALL, tmp_path / "again")

    assert file_digests(run.truth_path.parent) == file_digests(again.truth_path.parent)


def test_cli_in_other_process_same_bytes(run: SimulationResult, tmp_path: Path) -> None:
    # Another interpreter has another string hash seed, which would expose set-order dependence.
    out = tmp_path / "cli"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    command = [
        sys.executable, "-m", "training.simulator", "--out", str(out), "--months", "2",
        "--claims-per-month", "250", "--seed", "11",
    ]  # fmt: skip
    completed = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False)

    assert completed.returncode == 0, completed.stderr
    assert file_digests(out) == file_digests(run.truth_path.parent)


def test_other_seed_other_files(run: SimulationResult, tmp_path: Path) -> None:
    other = simulate(dataclasses.replace(SMALL, seed=12), tmp_path / "other")

    assert other.truth_path.read_bytes() != run.truth_path.read_bytes()


def test_rerun_removes_stale_files(tmp_path: Path) -> None:
    stale = tmp_path / "claims" / "OLD_19990101.837"
    stale.parent.mkdir(parents=True)
    stale.write_text("old", encoding="ascii")

    simulate(SimulationConfig(seed=3, claims_per_month=20), tmp_path)

    assert not stale.exists()


# --- files and envelopes ------------------------------------------------------------------------


def test_writes_files_of_both_kinds(run: SimulationResult) -> None:
    assert len(run.claim_files) >= 3
    assert len(run.remittance_files) >= 3
    assert all(path.suffix == ".837" for path in run.claim_files)
    assert all(path.suffix == ".835" for path in run.remittance_files)
    assert (run.truth_path.parent / "ceiling.json").is_file()


def test_isa_is_fixed_width(run: SimulationResult) -> None:
    for path in run.claim_files + run.remittance_files:
        first_line = path.read_text(encoding="ascii").split("\n", 1)[0]
        assert len(first_line) == 106, path.name
        assert first_line[104] == ":", path.name
        assert first_line[105] == "~", path.name


def test_envelope_counts_and_controls(run: SimulationResult) -> None:
    for path in run.claim_files + run.remittance_files:
        segments = segments_of(path)
        isa, gs, ge, iea = segments[0], segments[1], segments[-2], segments[-1]
        transactions = transactions_of(segments)
        assert iea[1] == "1", path.name
        assert iea[2] == isa[13], path.name
        assert ge[1] == str(len(transactions)), path.name
        assert ge[2] == gs[6], path.name
        for transaction in transactions:
            st, se = transaction[0], transaction[-1]
            assert se[1] == str(len(transaction)), f"{path.name} ST {st[2]}"
            assert se[2] == st[2], f"{path.name} ST {st[2]}"


def test_some_837_files_have_several_transactions(run: SimulationResult) -> None:
    counts = [len(transactions_of(segments_of(path))) for path in run.claim_files]

    assert max(counts) >= 2


def test_interchange_controls_unique(run: SimulationResult) -> None:
    controls = [segments_of(path)[0][13] for path in run.claim_files + run.remittance_files]

    assert len(controls) == len(set(controls))


def test_bpr_equals_clp_minus_plb(run: SimulationResult) -> None:
    for path in run.remittance_files:
        for transaction in transactions_of(segments_of(path)):
            paid = sum(Decimal(segment[4]) for segment in transaction if segment[0] == "CLP")
            plb = sum(
                Decimal(segment[index])
                for segment in transaction
                if segment[0] == "PLB"
                for index in range(4, len(segment), 2)
            )
            bpr = next(segment for segment in transaction if segment[0] == "BPR")
            assert Decimal(bpr[2]) == paid - plb, f"{path.name} ST {transaction[0][2]}"
            assert Decimal(bpr[2]) >= 0, f"{path.name} ST {transaction[0][2]}"


def test_claim_payments_balance(run: SimulationResult) -> None:
    for path in run.remittance_files:
        current = None
        balances = []
        for segment in segments_of(path):
            if segment[0] == "CLP":
                current = [segment[1], Decimal(segment[3]), Decimal(segment[4])]
                balances.append(current)
            elif segment[0] == "CAS" and current is not None:
                current[2] += sum(Decimal(segment[index]) for index in range(3, len(segment), 3))
            elif segment[0] in ("PLB", "SE"):
                current = None
        for claim_id, charge, paid_plus_adjusted in balances:
            assert charge == paid_plus_adjusted, f"{path.name} claim {claim_id}"


def test_one_835_per_payer_and_cycle(run: SimulationResult) -> None:
    keys = [(path.name.split("_")[0], path.name.split("_")[1]) for path in run.remittance_files]

    assert len(keys) == len(set(keys))


def test_reversals_and_plb_present(run: SimulationResult) -> None:
    statuses = collections.Counter(
        segment[2] for path in run.remittance_files for segment in segments_of(path) if segment[0] == "CLP"
    )
    plb_reasons = {
        segment[index].split(":")[0]
        for path in run.remittance_files
        for segment in segments_of(path)
        if segment[0] == "PLB"
        for index in range(3, len(segment), 2)
    }

    assert statuses["22"] >= 1
    assert statuses["4"] >= 1
    assert "WO" in plb_reasons


# --- identifiers and codes ----------------------------------------------------------------------


def test_npis_valid_except_injected(run: SimulationResult) -> None:
    invalid_claims = set(run.truth.loc[run.truth["event"] == "invalid_npi", "claim_id"])
    for path in run.claim_files:
        current_claim = None
        for segment in segments_of(path):
            if segment[0] == "CLM":
                current_claim = segment[1]
            if segment[0] == "NM1" and segment[1] in ("85", "82"):
                npi = segment[9]
                valid = npi_check_digit(npi[:9]) == npi[9]
                expected_valid = not (segment[1] == "82" and current_claim in invalid_claims)
                assert valid == expected_valid, f"{path.name} claim {current_claim} NPI {npi}"


def test_npi_check_digit_known_value() -> None:
    # 1234567893 is the example NPI of the CMS check-digit description.
    assert npi_check_digit("123456789") == "3"


def test_code_lists_billable_or_not() -> None:
    assert all(simple_icd_10_cm.is_leaf(code) for code in BILLABLE_ICD10)
    assert not any(
        simple_icd_10_cm.is_valid_item(code) and simple_icd_10_cm.is_leaf(code) for code in INVALID_ICD10
    )


def test_claim_diagnoses_billable_except_injected(run: SimulationResult) -> None:
    invalid_claims = set(run.truth.loc[run.truth["event"] == "invalid_icd", "claim_id"])
    billable_without_dot = {code.replace(".", ""): code for code in BILLABLE_ICD10}
    for path in run.claim_files:
        current_claim = None
        for segment in segments_of(path):
            if segment[0] == "CLM":
                current_claim = segment[1]
            if segment[0] == "HI":
                codes = [element.split(":")[1] for element in segment[1:]]
                all_billable = all(code in billable_without_dot for code in codes)
                assert all_billable == (current_claim not in invalid_claims), f"{path.name} claim {current_claim}"


def test_procedure_codes_are_numbers_only(run: SimulationResult) -> None:
    for path in run.claim_files:
        for segment in segments_of(path):
            if segment[0] == "SV1":
                code = segment[1].split(":")[1]
                assert code in PROCEDURE_CODES, f"{path.name} {code}"


def test_total_mismatch_only_where_injected(run: SimulationResult) -> None:
    mismatched = set(run.truth.loc[run.truth["event"] == "total_mismatch", "claim_id"])
    for path in run.claim_files:
        totals: dict[str, list[Decimal]] = {}
        current = None
        for segment in segments_of(path):
            if segment[0] == "CLM":
                current = segment[1]
                totals[current] = [Decimal(segment[2]), Decimal("0")]
            elif segment[0] == "SV1" and current is not None:
                totals[current][1] += Decimal(segment[2])
        for claim_id, (written, line_sum) in totals.items():
            assert (written != line_sum) == (claim_id in mismatched), f"{path.name} claim {claim_id}"


def test_future_dates_only_where_injected(run: SimulationResult) -> None:
    future = set(run.truth.loc[run.truth["event"] == "future_service_date", "claim_id"])
    for path in run.claim_files:
        created = None
        current = None
        for segment in segments_of(path):
            if segment[0] == "BHT":
                created = segment[4]
            elif segment[0] == "CLM":
                current = segment[1]
            elif segment[0] == "DTP" and segment[1] == "472":
                assert (segment[3] > created) == (current in future), f"{path.name} claim {current}"


def test_remittance_codes_in_code_lists() -> None:
    carc_file = SHARED_DATA / "codesets" / "carc.tsv"
    rarc_file = SHARED_DATA / "codesets" / "rarc.tsv"
    if not carc_file.is_file() or not rarc_file.is_file():
        pytest.skip(f"reference code lists not found at {SHARED_DATA / 'codesets'}")
    with carc_file.open(encoding="utf-8") as handle:
        carcs = {row["code"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}
    with rarc_file.open(encoding="utf-8") as handle:
        rarcs = {row["code"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}
    variants = [variant for group in CODE_CATALOGUE.values() for variant in group]
    variants += list(DUPLICATE_VARIANTS) + list(GENERIC_VARIANTS)

    assert {variant.carc for variant in variants} - carcs == set()
    assert {rarc for variant in variants for rarc in variant.rarcs} - rarcs == set()


# --- truth table --------------------------------------------------------------------------------


def test_truth_labels_in_taxonomy(run: SimulationResult) -> None:
    truth = run.truth

    assert set(truth["root_cause"]) <= set(EXCEPTION_TYPES)
    assert set(truth["true_root_cause"]) <= set(EXCEPTION_TYPES)
    assert set(truth["priority"]) <= set(PRIORITIES)
    assert set(truth["resolution"]) <= set(RESOLUTIONS)


def test_resolution_fits_true_cause(run: SimulationResult) -> None:
    for row in run.truth.itertuples():
        fitting = FITTING_RESOLUTIONS[row.true_root_cause] | ({"write_off"} if row.abandoned else set())
        assert row.resolution in fitting, f"{row.event_id}: {row.true_root_cause} -> {row.resolution}"


def test_truth_claims_appear_where_event_implies(
    run: SimulationResult, claim_ids_837: collections.Counter[str], clp_by_claim: dict[str, list[list[str]]]
) -> None:
    for row in run.truth.itertuples():
        in_837 = claim_ids_837[row.claim_id]
        clps = clp_by_claim.get(row.claim_id, [])
        if row.event in ("invalid_npi", "total_mismatch", "future_service_date", "invalid_icd"):
            assert (in_837, len(clps)) == (1, 0), row.event_id
        elif row.event == "unmatched_payment":
            assert (in_837, len(clps)) == (0, 1), row.event_id
        elif row.event == "duplicate":
            assert in_837 == 2, row.event_id
            assert any(clp[2] == "4" for clp in clps), row.event_id
        else:
            assert in_837 == 1, row.event_id
            assert len(clps) >= 1, row.event_id


def test_duplicate_denials_use_carc_18(run: SimulationResult) -> None:
    duplicates = run.truth[run.truth["event"] == "duplicate"]

    assert len(duplicates) >= 1
    assert set(duplicates["carc_codes"]) == {"18"}


def test_every_zero_paid_claim_has_truth_row(run: SimulationResult, clp_by_claim: dict[str, list[list[str]]]) -> None:
    labelled = set(run.truth["claim_id"])
    for claim_id, clps in clp_by_claim.items():
        for clp in clps:
            if clp[2] in ("1", "4") and Decimal(clp[4]) == 0:
                assert claim_id in labelled, claim_id


def test_every_event_kind_occurs(run: SimulationResult) -> None:
    expected = {
        "denial", "partial_denial", "zero_paid", "underpayment", "unmatched_payment", "duplicate",
        "invalid_npi", "total_mismatch", "future_service_date", "invalid_icd",
    }  # fmt: skip

    assert set(run.truth["event"]) == expected


def test_noisy_labels_differ_from_truth(run: SimulationResult) -> None:
    noisy = run.truth[run.truth["observed_label_noisy"]]
    clean = run.truth[~run.truth["observed_label_noisy"]]

    assert len(noisy) >= 1
    assert (noisy["root_cause"] != noisy["true_root_cause"]).all()
    assert (clean["root_cause"] == clean["true_root_cause"]).all()


def test_no_noise_when_rate_zero(tmp_path: Path) -> None:
    config = dataclasses.replace(SMALL, months=1, label_noise_rate=0.0)

    truth = simulate(config, tmp_path).truth

    assert not truth["observed_label_noisy"].any()


def test_codes_do_not_fix_labels(run: SimulationResult) -> None:
    # Payers share code sets across causes, so some code set maps to more than one true cause.
    denials = run.truth[run.truth["detection"].isin(["denial", "partial_denial", "zero_paid"])]
    causes_per_code = denials.groupby("carc_codes")["true_root_cause"].nunique()

    assert (causes_per_code > 1).any()


def test_root_cause_shares_follow_parameters(tmp_path: Path) -> None:
    # Triple the denial rate so a small run still yields several hundred denials.
    config = SimulationConfig(seed=5, months=1, claims_per_month=1200, denial_rate_scale=3.0)
    truth = simulate(config, tmp_path).truth
    denials = truth[truth["detection"].isin(["denial", "partial_denial", "zero_paid"])]
    denials = denials[denials["event"] != "duplicate"]
    observed = denials["true_root_cause"].value_counts(normalize=True)
    expected: dict[str, float] = collections.defaultdict(float)
    for cause, share in base_cause_shares().items():
        expected[CAUSE_TO_TYPE[cause]] += share

    for root_cause, share in expected.items():
        assert abs(observed.get(root_cause, 0.0) - share) < 0.07, root_cause


def test_truth_csv_matches_result(run: SimulationResult) -> None:
    from_disk = pd.read_csv(run.truth_path, dtype=str, keep_default_na=False)

    assert len(from_disk) == len(run.truth)
    assert list(from_disk["event_id"]) == list(run.truth["event_id"])


def test_ceiling_is_a_share(run: SimulationResult) -> None:
    ceiling = run.ceiling

    assert 0.0 < ceiling["root_cause_accuracy"] <= 1.0
    assert 0.0 < ceiling["root_cause_accuracy_holdout"] <= ceiling["root_cause_accuracy"]
    assert ceiling["rows"] == len(run.truth)


def test_ceiling_below_one_with_noise(run: SimulationResult) -> None:
    assert run.ceiling["true_root_cause_accuracy"] >= run.ceiling["root_cause_accuracy"]
    assert run.ceiling["root_cause_accuracy"] < 1.0


# --- parameters and small helpers ---------------------------------------------------------------


def test_published_parameters_have_sources() -> None:
    for item in load_parameters().values():
        if item.kind == "published":
            assert item.source_id, item.name


def test_config_defaults_match_parameters() -> None:
    parameters = load_parameters()
    defaults = SimulationConfig()
    for name in (
        "presubmission_error_rate", "underpayment_rate", "unmatched_payment_rate", "duplicate_rate",
        "reversal_rate", "overpayment_recovery_rate", "label_noise_rate", "priority_noise_rate",
    ):  # fmt: skip
        assert getattr(defaults, name) == parameters[name].value, name


def test_confusable_types_cover_taxonomy() -> None:
    for root_cause, alternatives in CONFUSABLE_TYPES.items():
        assert root_cause in EXCEPTION_TYPES
        assert set(alternatives) <= set(EXCEPTION_TYPES) - {root_cause}


def test_format_amount_drops_trailing_zeros() -> None:
    assert format_amount(Decimal("100.00")) == "100"
    assert format_amount(Decimal("12.50")) == "12.5"
    assert format_amount(Decimal("-0.00")) == "0"
    assert format_amount(Decimal("-3.1")) == "-3.1"


def test_invalid_config_rejected() -> None:
    with pytest.raises(ValueError, match="months=0"):
        SimulationConfig(months=0)
    with pytest.raises(ValueError, match="label_noise_rate"):
        SimulationConfig(label_noise_rate=1.5)


def test_dates_derive_from_config(run: SimulationResult) -> None:
    first = segments_of(sorted(run.claim_files)[0])[0]
    isa_date = dt.datetime.strptime(first[9], "%y%m%d").date()

    assert SMALL.start <= isa_date < SMALL.start + dt.timedelta(days=40)
