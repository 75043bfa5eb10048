"""Memory of the embedded runtime over time: ``python -m benchmarks.runtime_memory_bench``.

Starts the real ``catdog up`` (web app, inference server, the pipeline in-process)
in a temporary data directory with the schedule at 0.1 s (manual mode: every tick
is a skipped check, the commonest execution by far), and samples the resident
memory of the ``catdog up`` process itself, which holds moto's interpreter and
the scheduler, while the ticks pile up. Finished executions are archived and
removed from the interpreter, and skipped checks older than the retention (here
a few seconds, so compaction runs during the benchmark) become hourly counts:
the figure is how much the process grows over 5,000 ticks, and what the archive
keeps.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

from benchmarks.inference_load import free_port
from benchmarks.output import write_result
from catdog.pipeline.archive import ExecutionArchive, archive_path
from catdog.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "runtime_memory_bench.json"
CATDOG = Path(sys.executable).with_name("catdog")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def ticks_done(archive: ExecutionArchive) -> int:
    size = archive.size()
    return size["executions"] + size["folded"]


def held_by_interpreter(settings: Settings) -> int | None:
    """Executions moto's interpreter holds now (running, or finished and not archived
    yet); None while its server is not up."""
    from botocore.exceptions import BotoCoreError, ClientError

    from catdog.pipeline.aws_clients import stepfunctions_client

    client = stepfunctions_client(settings)
    try:
        machines = client.list_state_machines()["stateMachines"]
        return sum(
            len(
                client.list_executions(stateMachineArn=m["stateMachineArn"], maxResults=1000)[
                    "executions"
                ]
            )
            for m in machines
        )
    except (BotoCoreError, ClientError):
        return None


def start_up(
    data_dir: Path, port: int, schedule: float, retention_days: float
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CATDOG_DATA_DIR": str(data_dir),
        "CATDOG_WEB_PORT": str(free_port()),
        "CATDOG_INFERENCE_PORT": str(free_port()),
        "CATDOG_STEPFUNCTIONS_PORT": str(port),
        "CATDOG_SCHEDULE_SECONDS": str(schedule),
        "CATDOG_SKIPPED_RETENTION_DAYS": str(retention_days),
        "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    log = (data_dir.parent / "catdog-up.log").open("wb")
    return subprocess.Popen(
        [str(CATDOG), "up"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


class Sample(TypedDict):
    ticks: int
    rss_mb: float
    held_by_interpreter: int | None
    seconds: float


def run(ticks: int, schedule: float, retention_days: float, every: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="catdog-memory-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        port = free_port()
        settings = Settings(data_dir=data_dir, stepfunctions_port=port)
        process = start_up(data_dir, port, schedule, retention_days)
        samples: list[Sample] = []
        try:
            path = archive_path(data_dir)
            deadline = time.monotonic() + 120
            while not path.exists():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((Path(tmp) / "catdog-up.log").read_text()[-3000:])
                time.sleep(0.5)
            archive = ExecutionArchive(path)
            started = time.monotonic()
            next_sample = 0
            while True:
                done = ticks_done(archive)
                if done >= next_sample or done >= ticks:
                    samples.append(
                        {
                            "ticks": done,
                            "rss_mb": round(rss_mb(process.pid), 1),
                            "held_by_interpreter": held_by_interpreter(settings),
                            "seconds": round(time.monotonic() - started, 1),
                        }
                    )
                    next_sample = done + every
                if done >= ticks:
                    break
                if process.poll() is not None:
                    raise RuntimeError("catdog up exited during the benchmark")
                time.sleep(1.0)
            size = archive.size()
            archive_bytes = sum(
                p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file()
            )
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
    first = next(s for s in samples if s["ticks"] >= every)  # after the interpreter warmed up
    last = samples[-1]
    return {
        "ticks": last["ticks"],
        "held_by_interpreter_at_end": last["held_by_interpreter"],
        "schedule_seconds": schedule,
        "skipped_retention_days": retention_days,
        "wall_seconds": last["seconds"],
        "rss_mb_at_first_sample": samples[0]["rss_mb"],
        "rss_mb_after_warmup": first["rss_mb"],
        "rss_mb_at_end": last["rss_mb"],
        "growth_mb_after_warmup": round(last["rss_mb"] - first["rss_mb"], 1),
        "archive": {**size, "bytes": archive_bytes},
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.runtime_memory_bench")
    parser.add_argument("--ticks", type=int, default=5000)
    parser.add_argument("--schedule", type=float, default=0.1, help="seconds between ticks")
    parser.add_argument(
        "--retention-days", type=float, default=0.0002, help="about 17 s: compaction runs"
    )
    parser.add_argument("--every", type=int, default=250, help="ticks between samples")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args.ticks, args.schedule, args.retention_days, args.every)
    result = {
        "benchmark": "runtime_memory",
        "cpu_count": os.cpu_count(),
        "target": "catdog up grows by <= 50 MB over 5,000 scheduled ticks",
        **result,
        "passed": result["growth_mb_after_warmup"] <= 50,
    }
    return write_result(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
