"""Every benchmark, one report: ``python -m benchmarks.run_all [--quick]`` (``make bench``).

Runs each benchmark as its own process (so one's threads and imports do not
disturb the next), one after another, and writes
``benchmarks/results/report.json``: the machine (CPU count and model, load
average at the start), and per benchmark the command, its wall time, its exit
status and its JSON result. ``--quick`` runs fewer iterations (minutes, not
tens of minutes); the figures are then rougher.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "benchmarks" / "results" / "report.json"

# name -> (module, full arguments, quick arguments, the flag naming the output file)
BENCHMARKS: dict[str, tuple[str, list[str], list[str], str]] = {
    "inference": ("benchmarks.inference_bench", ["--seconds", "8"], ["--seconds", "3"], "--out"),
    "upload_to_classified": (
        "benchmarks.upload_bench",
        ["--uploads", "100"],
        ["--uploads", "30"],
        "--out",
    ),
    "decode_memory": ("benchmarks.decode_memory_bench", [], [], "--out"),
    "decode_cpu": ("benchmarks.decode_cpu_bench", [], [], "--out"),
    "list_pages": (
        "benchmarks.list_bench",
        ["--repeats", "100"],
        ["--repeats", "20"],
        "--out",
    ),
    "training": (
        "benchmarks.training_bench",
        ["--epochs", "2", "--per-class", "400"],
        ["--epochs", "1", "--per-class", "100"],
        "--out",
    ),
    "pipeline": (
        "benchmarks.pipeline_bench",
        ["--runs", "2", "--skips", "5"],
        ["--runs", "1", "--skips", "3"],
        "--output",
    ),
    "runtime_memory": (
        "benchmarks.runtime_memory_bench",
        ["--ticks", "5000"],
        ["--ticks", "1000"],
        "--out",
    ),
}


def machine() -> dict[str, Any]:
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model or platform.processor() or None,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def run_one(name: str, quick: bool, workdir: Path, timeout: float) -> dict[str, Any]:
    module, full, quick_args, out_flag = BENCHMARKS[name]
    out = workdir / f"{name}.json"
    command = [sys.executable, "-m", module, *(quick_args if quick else full), out_flag, str(out)]
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
        exit_status: int | None = done.returncode
        tail = (done.stderr or done.stdout)[-2000:]
    except subprocess.TimeoutExpired:
        exit_status, tail = None, f"timed out after {timeout:.0f} s"
    entry: dict[str, Any] = {
        "command": f"python -m {module} {' '.join(quick_args if quick else full)}",
        "wall_s": round(time.monotonic() - started, 1),
        "exit_status": exit_status,
    }
    if exit_status == 0 and out.exists():
        entry["result"] = json.loads(out.read_text())
    else:
        entry["error"] = tail
    print(f"   {name}: exit {exit_status} in {entry['wall_s']} s", flush=True)
    return entry


def _get(entry: dict[str, Any] | None, *path: str | int) -> Any:
    value: Any = (entry or {}).get("result")
    for step in path:
        if isinstance(value, dict):
            value = value.get(str(step))
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return None
    return value


def headline(benchmarks: dict[str, dict[str, Any]]) -> list[tuple[str, Any]]:
    """The figures the README quotes, picked out of the individual results."""
    inference, upload = benchmarks.get("inference"), benchmarks.get("upload_to_classified")
    listing, pipeline = benchmarks.get("list_pages"), benchmarks.get("pipeline")
    swaps = _get(inference, "during_swaps", "32") or {}
    rows: list[tuple[str, Any]] = [
        ("inference p50 at concurrency 1 (ms)", _get(inference, "steady", "1", "p50_ms")),
        (
            "inference throughput at concurrency 32 (/s)",
            _get(inference, "steady", "32", "throughput_per_s"),
        ),
        ("failed predictions at concurrency 32 during swaps", swaps.get("errors")),
        ("inference p99 at concurrency 32 during swaps (ms)", swaps.get("p99_ms")),
        ("upload to classified p50, 1 client (ms)", _get(upload, "concurrency_1", "p50_ms")),
        (
            "uploads classified per second, 8 clients",
            _get(upload, "concurrency_8", "uploads_per_s"),
        ),
        (
            "training images/s (small_cnn 128 px)",
            _get(benchmarks.get("training"), "train_images_per_second"),
        ),
        ("pipeline overhead per run, median (s)", _get(pipeline, "overhead_s_median")),
        ("promotion to served, median (s)", _get(pipeline, "promotion_to_served_s_median")),
    ]
    for size in _get(listing, "sizes") or []:
        count = f"{size['records']:,}"
        rows += [
            (f"list page p50, {count} records: first page (ms)", size["all"]["start"]["p50_ms"]),
            (f"list page p50, {count} records: middle page (ms)", size["all"]["middle"]["p50_ms"]),
            (
                f"list page p50, {count} records: predicted=cat, middle (ms)",
                size["label_cat"]["middle"]["p50_ms"],
            ),
        ]
        for view, measured in (size.get("browser") or {}).items():
            rows.append(
                (
                    f"image browser p50, {count} records: {view}, first / middle (ms)",
                    [measured["start"]["p50_ms"], measured["middle"]["p50_ms"]],
                )
            )
    memory = benchmarks.get("runtime_memory")
    rows += [
        ("catdog up growth over the scheduled ticks (MB)", _get(memory, "growth_mb_after_warmup")),
        ("scheduled ticks measured", _get(memory, "ticks")),
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all")
    parser.add_argument("--quick", action="store_true", help="fewer iterations")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="a subset")
    parser.add_argument("--out", type=Path, default=REPORT)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per benchmark")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": machine(),
        "benchmarks": {},
    }
    with tempfile.TemporaryDirectory(prefix="catdog-bench-all-") as tmp:
        for name in args.only or list(BENCHMARKS):
            report["benchmarks"][name] = run_one(name, args.quick, Path(tmp), args.timeout)
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["figures"] = dict(headline(report["benchmarks"]))
    for name, value in report["figures"].items():
        print(f"| {name} | {value} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    failed = [n for n, e in report["benchmarks"].items() if e["exit_status"] != 0]
    print(f"report: {args.out}" + (f" (failed: {', '.join(failed)})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
