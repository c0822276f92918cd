"""Compare X12 reading throughput: our reader, pyx12 (raw, segment and validating), x12sdk and str.split.

Run from the project root: ``.venv/bin/python bench/x12/run.py [--large-mb 50] [--validation-mb 2]``.
Every reader reads the same inputs: the public samples in ../shared/data/x12 (skipped when absent)
and a generated file of 837P and 835 interchanges written to a temporary folder and deleted after
the run. pyx12's validating run checks a smaller generated file of ``--validation-mb`` MB, because it
reads tens of KB per second. Results go to standard output; record them in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.x12.sample_file import write_sample_file  # noqa: E402
from features.x12 import read_x12  # noqa: E402
from features.x12.tokenizer import decode_chunks  # noqa: E402

SHARED_X12 = PROJECT_ROOT.parent / "shared" / "data" / "x12"

MEGABYTE = 1_000_000



@dataclass
class Measurement:
    reader: str
    input_name: str
    megabytes: float
    seconds: float
    files: int
    failed_files: int
    note: str = ""

    @property
    def throughput(self) -> float:
        return self.megabytes / self.seconds if self.seconds > 0 else float("nan")


# Readers: each reads one file completely and returns nothing ----------------------------------


def read_ours(path: Path) -> None:
    for _ in read_x12(path):
        pass


def read_pyx12_raw(path: Path) -> None:
    import pyx12.rawx12file

    with path.open(encoding="ascii", errors="replace") as handle:
        for _ in pyx12.rawx12file.RawX12File(handle):
            pass


def read_pyx12_segments(path: Path) -> None:
    import pyx12.x12file

    with path.open(encoding="ascii", errors="replace") as handle:
        for _ in pyx12.x12file.X12Reader(handle):
            pass


def read_pyx12_validating(path: Path) -> None:
    import pyx12.params
    import pyx12.x12n_document

    with path.open(encoding="ascii", errors="replace") as handle:
        pyx12.x12n_document.x12n_document(pyx12.params.params(), handle, None, None, fd_json=io.StringIO())


def read_x12sdk(path: Path) -> None:
    from x12sdk.io import X12ModelReader

    with X12ModelReader(str(path)) as reader:
        for _ in reader.models():
            pass


def split_on_terminator(path: Path) -> None:
    # The floor: decode and split on the terminator declared at ISA position 106, nothing else.
    text = "".join(decode_chunks([path.read_bytes()]))
    start = text.find("ISA")
    terminator = text[start + 105] if start >= 0 and len(text) > start + 105 else "~"
    text.split(terminator)


READERS: dict[str, Callable[[Path], None]] = {
    "ours (features.x12.read_x12)": read_ours,
    "pyx12 RawX12File (segments as text)": read_pyx12_raw,
    "pyx12 X12Reader (segments, envelope checks)": read_pyx12_segments,
    "pyx12 x12n_document (TR3 validation)": read_pyx12_validating,
    "x12sdk X12ModelReader (pydantic models)": read_x12sdk,
    "str.split on the terminator (floor)": split_on_terminator,
}

OURS = "ours (features.x12.read_x12)"
VALIDATING = "pyx12 x12n_document (TR3 validation)"


def x12sdk_status() -> str | None:
    """Return why x12sdk cannot be measured, or None when it imports."""
    try:
        import x12sdk  # noqa: F401
    except ImportError as error:
        return f"unavailable: {error}. Install it with .venv/bin/pip install x12sdk"
    return None


# Measuring -------------------------------------------------------------------------------------


def measure(reader_name: str, paths: list[Path], input_name: str) -> Measurement:
    reader = READERS[reader_name]
    megabytes = sum(path.stat().st_size for path in paths) / MEGABYTE
    failed = 0
    first_error = ""
    # CPU time of this process rather than wall time: the readers are single-threaded, and CPU
    # time is less disturbed by other work on a shared machine.
    start = time.process_time()
    for path in paths:
        try:
            reader(path)
        except Exception as error:  # noqa: BLE001 - a reader failing on a sample is a result to report
            failed += 1
            first_error = first_error or f"first failure: {type(error).__name__} on {path.name}"
    seconds = time.process_time() - start
    return Measurement(reader_name, input_name, megabytes, seconds, len(paths), failed, first_error)


def peak_memory_of_our_reader(path: Path) -> tuple[float, float]:
    """Return the peak RSS in MB of a fresh process that reads ``path``, and of one that only imports.

    The peak is VmHWM from /proc/self/status, because ru_maxrss of a child started by fork and exec
    on Linux can carry the parent's peak over. Elsewhere ru_maxrss is used.
    """
    script = (
        "import resource, sys\n"
        "from features.x12 import read_x12\n"
        "if sys.argv[1] != '-':\n"
        "    for _ in read_x12(sys.argv[1]):\n"
        "        pass\n"
        "try:\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "    print(int(status.split()[0]))\n"
        "except (OSError, IndexError):\n"
        "    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    peaks = []
    for argument in (str(path), "-"):
        completed = subprocess.run(
            [sys.executable, "-c", script, argument], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        )
        # Both VmHWM and ru_maxrss on Linux are in KiB.
        peaks.append(int(completed.stdout.strip()) * 1024 / MEGABYTE)
    return peaks[0], peaks[1]


def shared_samples() -> list[Path]:
    return sorted(path for path in SHARED_X12.rglob("*") if path.is_file() and path.name != "SOURCES.tsv")


def samples_up_to(paths: list[Path], megabytes: float) -> list[Path]:
    """Return the first of ``paths`` (by name) whose sizes add up to at most ``megabytes``."""
    chosen = []
    total = 0
    for path in paths:
        size = path.stat().st_size
        if total + size > megabytes * MEGABYTE:
            continue
        chosen.append(path)
        total += size
    return chosen


# Output ----------------------------------------------------------------------------------------


def print_table(measurements: list[Measurement]) -> None:
    ours = {m.input_name: m.throughput for m in measurements if m.reader == OURS}
    header = f"{'input':<34} {'reader':<46} {'MB':>7} {'cpu s':>8} {'MB/s':>8} {'ours/it':>8} {'failed':>7}  note"
    print(header)
    print("-" * len(header))
    for m in measurements:
        ratio = ours.get(m.input_name, float("nan")) / m.throughput if m.throughput else float("nan")
        failed = f"{m.failed_files}/{m.files}"
        print(
            f"{m.input_name:<34} {m.reader:<46} {m.megabytes:>7.2f} {m.seconds:>8.2f} {m.throughput:>8.2f} "
            f"{ratio:>8.1f} {failed:>7}  {m.note}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large-mb", type=float, default=50, help="size of the generated file in MB (default 50)")
    parser.add_argument(
        "--validation-mb", type=float, default=2, help="size of the input pyx12's validating run reads, in MB (default 2)"
    )
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # pyx12 logs every validation error; the benchmark only needs the time it takes.
    # pyx12 logs every validation error and x12sdk every failed file with a traceback; the
    # benchmark reports failures in its own table.
    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
    logging.getLogger("x12sdk").setLevel(logging.CRITICAL + 1)

    print(f"date: {dt.date.today().isoformat()}  python: {platform.python_version()}  cpus: {os.cpu_count()}")
    print(f"machine: {platform.machine()} {platform.processor() or ''}".rstrip())
    sdk_problem = x12sdk_status()
    readers = [name for name in READERS if not (sdk_problem and name.startswith("x12sdk"))]
    if sdk_problem:
        print(f"x12sdk: {sdk_problem}")

    measurements: list[Measurement] = []
    if SHARED_X12.is_dir():
        samples = shared_samples()
        validation_samples = samples_up_to(samples, arguments.validation_mb)
        for name in readers:
            chosen = validation_samples if name == VALIDATING else samples
            label = f"shared samples ({len(chosen)} files)"
            measurements.append(measure(name, chosen, label))
            if name == VALIDATING:
                measurements.append(measure(OURS, chosen, label))
    else:
        print(f"shared samples: skipped, not found at {SHARED_X12}")

    with tempfile.TemporaryDirectory(prefix="x12-bench-") as folder:
        large = Path(folder) / "large.x12"
        small = Path(folder) / "validation.x12"
        size = write_sample_file(large, int(arguments.large_mb * MEGABYTE))
        write_sample_file(small, int(arguments.validation_mb * MEGABYTE))
        print(f"generated file: {size / MEGABYTE:.1f} MB of 837P and 835 interchanges")
        for name in readers:
            if name == VALIDATING:
                measurements.append(measure(name, [small], f"generated {arguments.validation_mb:g} MB slice"))
                # The ratio column compares readers on the same input, so ours reads the slice too.
                measurements.append(measure(OURS, [small], f"generated {arguments.validation_mb:g} MB slice"))
            else:
                measurements.append(measure(name, [large], f"generated {arguments.large_mb:g} MB"))
        peak, baseline = peak_memory_of_our_reader(large)

    print()
    print_table(measurements)
    print()
    print(f"peak RSS of our reader on the generated file: {peak:.0f} MB (a process that only imports it: {baseline:.0f} MB)")
    ours_on_slice = next(m for m in measurements if m.reader == OURS and "slice" in m.input_name)
    validating = next(m for m in measurements if m.reader == VALIDATING and "slice" in m.input_name)
    print(f"ours / pyx12 validating on the same slice: {ours_on_slice.throughput / validating.throughput:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
