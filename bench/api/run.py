"""Benchmark the triage API against MLflow's scoring server for the same bundle, on 127.0.0.1.

Run it from the project root::

    .venv/bin/python bench/api/run.py [--model models/default] [--requests 1000] [--output results.json]
        [--levels 1,8,32] [--batches 3]

The script starts two servers as child processes and drives both from this process with the same
requests:

* the triage API (``serving.api.create_app`` under uvicorn, one worker, a fresh SQLite store):
  every request predicts, explains the predicted class of each head and writes the prediction,
  its context and its audit events;
* ``mlflow models serve --env-manager local -w 1`` for the same bundle logged with
  ``training.mlflow_model.log_bundle``: predictions without explanations or storage. One uvicorn
  worker is also MLflow's default (``--workers``, MLflow 3.17), so both servers get one process.

Each server gets 20 warm-up requests first. At each concurrency level both servers get the same
invented exceptions (only the ids differ, so the API stores new exceptions), one server after
the other. It prints p50 and p99 latency of single-exception requests at concurrency 1, 8 and 32,
the throughput of 1,000-exception batches, the batch throughput of our model call against a
per-row loop over ``shap.TreeExplainer`` on all classes, and the load average before and after.
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

logger = logging.getLogger("bench.api")

HOST = "127.0.0.1"
CONCURRENCY_LEVELS = (1, 8, 32)
BATCH_SIZE = 1000
BATCHES = 3
LOOP_ROWS = 100
WARM_UP_REQUESTS = 20
WORKERS = 1

# Invented values in the ranges the simulator produces; no field comes from a real claim.
KINDS_AND_CODES = [
    ("denial", "payment.denied"),
    ("validation", "rule.timely_filing"),
    ("validation", "rule.diagnosis_code_exists"),
    ("validation", "rule.duplicate_claim"),
    ("validation", "rule.prior_authorization_present"),
    ("unmatched_payment", "match.no_claim"),
]
CARCS = ["197", "16", "29", "45", "50", "18", "4", "96", "27", "22", "252"]
GROUPS = ["CO", "PR", "OA"]
PAYERS = ["SIMCOM01", "SIMCOM02", "SIMMCR01", "SIMMCD01", "SIMMAP01"]
PROCEDURES = ["99213", "99214", "97110", "80053", "36415"]
DIAGNOSES = ["E119", "I10", "R059", "M545", "Z0000"]


def fake_exception(rng: random.Random, exception_id: str) -> dict[str, Any]:
    """Return one invented exception in its JSON form."""
    kind, code = rng.choice(KINDS_AND_CODES)
    billed = rng.randint(50, 5000)
    paid = 0 if kind == "denial" else rng.randint(0, billed)
    carc = rng.choice(CARCS)
    group = rng.choice(GROUPS)
    adjusted = billed - paid
    return {
        "exception_id": exception_id,
        "kind": kind,
        "code": code,
        "message": "invented exception for the benchmark",
        "claim_id": f"CLM{rng.randint(1, 10**8):08d}",
        "payer_id": rng.choice(PAYERS),
        "amount_at_risk": f"{adjusted}.00",
        "service_date": f"2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
        "detected_on": "2026-10-15",
        "claim_status": "4" if kind == "denial" else "1",
        "group_codes": [group],
        "carc_codes": [carc],
        "rarc_codes": [],
        "billed_amount": f"{billed}.00",
        "paid_amount": f"{paid}.00",
        "procedure_codes": [rng.choice(PROCEDURES)],
        "diagnosis_codes": [rng.choice(DIAGNOSES)],
        "evidence": {"adjustments": [{"group": group, "reason": carc, "amount": f"{adjusted}.00"}]},
        "source": {"file": "bench.837", "document_id": "bench"},
    }


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid --levels {text!r}: expected positive integers such as 1,8,32") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"invalid --levels {text!r}: expected positive integers such as 1,8,32")
    return levels


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout_s: float = 180.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with code {process.returncode}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} timed out: no response with status 200 within {timeout_s} s")


# Servers ---------------------------------------------------------------------------------------


def start_triage_api(work: Path, model_dir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """Start the triage API on a fresh store; return the process, its base URL and an admin key."""
    from workflow.store import open_store
    from workflow.store.governance import create_api_key

    store_url = f"sqlite:///{work / 'triage.db'}"
    with open_store(store_url) as store:
        key = create_api_key(store, name="bench", role="admin")
    port = free_port()
    launcher = (
        "import uvicorn; from serving.api import create_app; "
        f"uvicorn.run(create_app(store_url={store_url!r}), host={HOST!r}, port={port}, "
        "log_level='warning', access_log=False)"
    )
    env = {**os.environ, "TRIAGE_MODEL_PATH": str(model_dir), "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen([sys.executable, "-c", launcher], env=env, cwd=PROJECT_ROOT)
    base = f"http://{HOST}:{port}"
    try:
        wait_until_up(f"{base}/readyz", process)
    except RuntimeError:
        process.terminate()
        raise
    return process, base, key


def start_mlflow_server(work: Path, model_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Log the bundle to a throwaway MLflow store and serve it with ``mlflow models serve``."""
    import mlflow

    tracking_uri = f"sqlite:///{work / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
    mlflow.set_tracking_uri(tracking_uri)
    # Without an artifact location MLflow writes the logged model under ./mlruns in the project.
    mlflow.create_experiment("bench-api", artifact_location=(work / "artifacts").as_uri())
    mlflow.set_experiment("bench-api")
    from training.mlflow_model import log_bundle

    version = log_bundle(model_dir, registered_model_name="bench-claims-triage")
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mlflow")), "models", "serve",
        "-m", f"models:/bench-claims-triage/{version.version}",
        "--env-manager", "local", "-h", HOST, "-p", str(port), "-w", str(WORKERS),
    ]
    # The scoring server runs `uvicorn` by name, so the environment's bin folder goes first on PATH.
    bin_folder = str(Path(sys.executable).parent)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}"}
    log = (work / "mlflow-serve.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=work, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    try:
        wait_until_up(f"{base}/ping", process)
    except RuntimeError:
        process.terminate()
        tail = (work / "mlflow-serve.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"mlflow models serve did not start; its output ends with:\n{tail}") from None
    return process, base


# Drivers ---------------------------------------------------------------------------------------


class Target:
    """One server under test: how to send exceptions to it."""

    def __init__(self, name: str, url: str, headers: dict[str, str], wrap: Any) -> None:
        self.name = name
        self.url = url
        self.headers = headers
        self.wrap = wrap

    def send(self, client: httpx.Client, exceptions: list[dict[str, Any]]) -> float:
        body = self.wrap(exceptions)
        started = time.perf_counter()
        response = client.post(self.url, json=body, headers=self.headers, timeout=120.0)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{self.name} responded with status {response.status_code}: {response.text[:300]}")
        return elapsed


def triage_target(base: str, key: str) -> Target:
    return Target("triage API", f"{base}/v1/triage", {"X-API-Key": key},
                  lambda items: items[0] if len(items) == 1 else {"exceptions": items})


def mlflow_target(base: str) -> Target:
    return Target("MLflow serve", f"{base}/invocations", {},
                  lambda items: {"dataframe_records": [{"exception": json.dumps(item)} for item in items]})


def latency_run(target: Target, payloads: list[dict[str, Any]], concurrency: int) -> dict[str, float]:
    """Send each payload as a single-exception request, ``concurrency`` at a time; return p50 and p99 in ms."""
    def worker(share: list[dict[str, Any]]) -> list[float]:
        with httpx.Client() as client:
            return [target.send(client, [payload]) for payload in share]

    shares = [payloads[i::concurrency] for i in range(concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        latencies = [value for share in pool.map(worker, shares) for value in share]
    wall = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000,
            "requests": len(latencies), "requests_per_s": len(latencies) / wall}


def batch_run(target: Target, batches: list[list[dict[str, Any]]]) -> float:
    """Send each batch in turn; return exceptions per second."""
    with httpx.Client() as client:
        seconds = sum(target.send(client, batch) for batch in batches)
    return sum(len(batch) for batch in batches) / seconds


def per_row_shap_loop(model_dir: Path, payloads: list[dict[str, Any]]) -> float:
    """Return exceptions per second of predicting row by row with shap.TreeExplainer on every class."""
    import shap

    from serving.model import TriageModel, softmax

    model = TriageModel.load(model_dir)
    explainers = {name: shap.TreeExplainer(head.booster) for name, head in model.heads.items()}
    started = time.perf_counter()
    for payload in payloads:
        rows = model.feature_rows([payload])
        matrix = model.spec.encode(rows)
        for name, head in model.heads.items():
            softmax(head.raw_scores(matrix), head.temperature)
            explainers[name].shap_values(matrix, check_additivity=False)
    return len(payloads) / (time.perf_counter() - started)


def in_process_batch(model_dir: Path, payloads: list[dict[str, Any]], repeats: int = 3) -> float:
    """Return exceptions per second of one vectorised TriageModel.predict call with explanations.

    The call runs ``repeats`` times and the median counts, because a single call on a 2-core
    machine moves with whatever else the machine does at that moment.
    """
    from serving.model import TriageModel

    model = TriageModel.load(model_dir)
    model.prepare_explainers()
    model.predict(payloads[:10])
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.predict(payloads)
        seconds.append(time.perf_counter() - started)
    return len(payloads) / statistics.median(seconds)


# Report ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "default", help="bundle folder")
    parser.add_argument("--requests", type=int, default=1000, help="single-exception requests per concurrency level")
    parser.add_argument("--seed", type=int, default=11, help="seed of the invented exceptions")
    parser.add_argument("--output", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--levels", type=_levels, default=CONCURRENCY_LEVELS,
                        help="concurrency levels, comma-separated (default 1,8,32)")
    parser.add_argument("--batches", type=int, default=BATCHES,
                        help="batches of 1,000 sent to each server; 0 skips the batch figures (default 3)")
    args = parser.parse_args()
    if args.requests < 2:
        parser.error(f"invalid --requests {args.requests}: expected 2 or more, so p50 and p99 exist")
    if args.batches < 0:
        parser.error(f"invalid --batches {args.batches}: expected 0 or more")
    logging.basicConfig(level=logging.WARNING)
    from workflow.store.database import sqlite_synchronous

    rng = random.Random(args.seed)
    results: dict[str, Any] = {
        "requests_per_level": args.requests, "cpus": os.cpu_count(), "workers": WORKERS,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load_average_before": os.getloadavg(),
        "sqlite_synchronous": sqlite_synchronous(),
    }
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        work = Path(folder)
        processes: list[subprocess.Popen[bytes]] = []
        try:
            api_process, api_base, key = start_triage_api(work, args.model)
            processes.append(api_process)
            mlflow_process, mlflow_base = start_mlflow_server(work, args.model)
            processes.append(mlflow_process)
            targets = [triage_target(api_base, key), mlflow_target(mlflow_base)]
            for target in targets:
                with httpx.Client() as client:
                    for i in range(WARM_UP_REQUESTS):
                        target.send(client, [fake_exception(rng, f"warm-{target.name[:3]}-{i}")])

            for level in args.levels:
                payloads = [fake_exception(rng, f"lat-{level}-{i:05d}") for i in range(args.requests)]
                for target in targets:
                    # Each server gets its own ids, so the API stores new exceptions every time.
                    own = [dict(p, exception_id=f"{p['exception_id']}-{target.name[:3]}") for p in payloads]
                    results.setdefault("latency", {}).setdefault(str(level), {})[target.name] = latency_run(target, own, level)

            batches = [[fake_exception(rng, f"batch-{b}-{i:04d}") for i in range(BATCH_SIZE)] for b in range(args.batches)]
            for target in targets if batches else ():
                own = [[dict(p, exception_id=f"{p['exception_id']}-{target.name[:3]}") for p in batch] for batch in batches]
                results.setdefault("batch_exceptions_per_s", {})[target.name] = batch_run(target, own)
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=30)

    if batches:
        loop_payloads = [fake_exception(rng, f"loop-{i}") for i in range(LOOP_ROWS)]
        results["per_row_shap_loop_per_s"] = per_row_shap_loop(args.model, loop_payloads)
        results["in_process_batch_per_s"] = in_process_batch(args.model, batches[0])
    results["load_average_after"] = os.getloadavg()
    print_report(results)
    if args.output:
        args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def print_report(results: dict[str, Any]) -> None:
    before, after = results["load_average_before"], results["load_average_after"]
    print(f"\n{results['started']}, {results['cpus']} CPUs, {results['workers']} uvicorn worker per server, "
          f"SQLite synchronous={results['sqlite_synchronous']}, "
          f"load average (1, 5, 15 min) before {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}, "
          f"after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}")
    print(f"\nSingle-exception requests ({results['requests_per_level']} per level), milliseconds:")
    print("| concurrency | ours p50 | ours p99 | MLflow p50 | MLflow p99 | p99 ours / MLflow |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for level, by_target in results["latency"].items():
        ours, theirs = by_target["triage API"], by_target["MLflow serve"]
        print(f"| {level} | {ours['p50_ms']:.1f} | {ours['p99_ms']:.1f} | {theirs['p50_ms']:.1f} | "
              f"{theirs['p99_ms']:.1f} | {ours['p99_ms'] / theirs['p99_ms']:.2f} |")
    if "batch_exceptions_per_s" not in results:
        return
    batch = results["batch_exceptions_per_s"]
    loop = results["per_row_shap_loop_per_s"]
    print(f"\nBatches of {BATCH_SIZE}, exceptions per second:")
    print(f"  triage API (explanations + store): {batch['triage API']:.0f}")
    print(f"  MLflow serve (no explanations):    {batch['MLflow serve']:.0f}  "
          f"(ours / MLflow {batch['triage API'] / batch['MLflow serve']:.2f})")
    print(f"  TriageModel.predict in process:     {results['in_process_batch_per_s']:.0f}")
    print(f"  per-row shap.TreeExplainer loop:    {loop:.0f}")
    print(f"  API batch / per-row loop:           {batch['triage API'] / loop:.1f}x")


if __name__ == "__main__":
    main()
