"""Time each stage of POST /v1/triage in process: validation, prediction, the store write, the response.

Run it from the project root::

    .venv/bin/python bench/api/stages.py [BATCH_SIZE] [--repeats N] [--model models/default]

It calls the route's own functions one after another on a fresh SQLite store, without HTTP or
worker threads, and prints the median, 90th and 99th percentile of each stage and of their sum
in milliseconds. As in the API, a background thread checkpoints the store's write-ahead log. The
first fifth of the repeats (at least one) warm up and are left out.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import fake_exception  # noqa: E402

STAGES = ("validate", "predict", "write", "render")


def time_stages(model_dir: Path, batch_size: int, repeats: int) -> dict[str, list[float]]:
    """Return the milliseconds of each stage for ``repeats`` requests of ``batch_size`` exceptions."""
    from serving.api.requests import ExceptionIn, TriageBatch
    from serving.api.routes.triage import _predict, _render
    from serving.model import TriageModel
    from serving.routing import RoutingPolicy
    from workflow.store import open_store
    from workflow.store.governance import save_api_prediction_writes

    model = TriageModel.load(model_dir)
    model.prepare_explainers()
    # As the API server does after loading the bundle.
    gc.freeze()
    policy = RoutingPolicy()
    rng = random.Random(3)
    times: dict[str, list[float]] = {stage: [] for stage in STAGES}

    with tempfile.TemporaryDirectory(prefix="bench-stages-") as folder, open_store(f"sqlite:///{folder}/triage.db") as store:
        # As the API does while it serves, so commits do not run the checkpoints themselves.
        store.start_wal_checkpoints()
        for repeat in range(repeats):
            exceptions = [fake_exception(rng, f"stage-{repeat}-{i}") for i in range(batch_size)]
            body = json.dumps(exceptions[0] if batch_size == 1 else {"exceptions": exceptions}).encode()

            started = time.perf_counter()
            items = [ExceptionIn.model_validate_json(body)] if batch_size == 1 else TriageBatch.model_validate_json(body).exceptions
            validated = time.perf_counter()
            prepared = _predict(items, model, policy, request_id="bench", actor="api:bench")
            predicted = time.perf_counter()
            created = save_api_prediction_writes(store, [prepared.write()])[0]
            written = time.perf_counter()
            _render(prepared.outcomes, model, request_id="bench", created=set(created))
            rendered = time.perf_counter()

            for stage, begin, end in zip(STAGES, (started, validated, predicted, written), (validated, predicted, written, rendered), strict=True):
                times[stage].append((end - begin) * 1000.0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batch_size", nargs="?", type=int, default=1, help="exceptions per request (default 1)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="requests to time, 2 or more (default 300 for one exception, else 8)")
    parser.add_argument("--model", type=Path, default=PROJECT_ROOT / "models" / "default", help="bundle folder")
    args = parser.parse_args()
    if args.batch_size < 1:
        parser.error(f"invalid batch size {args.batch_size}: expected 1 or more")
    if args.repeats is not None and args.repeats < 2:
        parser.error(f"invalid --repeats {args.repeats}: expected 2 or more, one of them to warm up")
    repeats = args.repeats
    if repeats is None:
        repeats = 300 if args.batch_size == 1 else 8

    times = time_stages(args.model, args.batch_size, repeats)
    from workflow.store.database import sqlite_synchronous

    warm_up = max(1, repeats // 5)
    noun = "exception" if args.batch_size == 1 else "exceptions"
    print(f"{repeats - warm_up} requests of {args.batch_size} {noun} after {warm_up} to warm up, "
          f"SQLite synchronous={sqlite_synchronous()}, milliseconds:")
    totals = [sum(stage_times) for stage_times in zip(*times.values(), strict=True)]
    for stage, values in [*times.items(), ("total", totals)]:
        measured = sorted(values[warm_up:])
        print(f"  {stage:9s} median {statistics.median(measured):8.2f}  p90 {_percentile(measured, 0.9):8.2f}"
              f"  p99 {_percentile(measured, 0.99):8.2f}")


def _percentile(ordered: list[float], share: float) -> float:
    """Return the value below which ``share`` of the sorted values lie (the nearest rank)."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


if __name__ == "__main__":
    main()
