"""HTTP load for the inference benchmark: keep-alive clients, a swapper, server CPU time."""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TOKEN = "bench-admin-token"
SWAP_EVERY_S = 2.0


@dataclass
class Phase:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    server_cpu_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        values = np.asarray(self.latencies_ms or [float("nan")])
        cpu_ms = 1000 * self.server_cpu_s / max(1, len(self.latencies_ms))
        return {
            "server_cpu_ms_per_prediction": round(cpu_ms, 2),
            "projected_throughput_on_2_dedicated_cores": round(2000 / cpu_ms, 1)
            if cpu_ms
            else None,
            "requests": len(self.latencies_ms),
            "errors": len(self.errors),
            "error_samples": self.errors[:5],
            "throughput_per_s": round(len(self.latencies_ms) / self.seconds, 1),
            "p50_ms": round(float(np.percentile(values, 50)), 2),
            "p95_ms": round(float(np.percentile(values, 95)), 2),
            "p99_ms": round(float(np.percentile(values, 99)), 2),
            "max_ms": round(float(values.max()), 2),
            "versions": self.versions,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> tuple[int, bytes]:
    own = connection is None
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


class ServerCpu:
    """CPU seconds used by the server's processes (master and worker), from /proc.

    CPU time per prediction does not depend on what else runs on the machine,
    so it projects what two dedicated cores would sustain.
    """

    def __init__(self, master_pid: int) -> None:
        self._pids = [master_pid, *self._children(master_pid)]
        self._tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _children(pid: int) -> list[int]:
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        except OSError:
            return []
        return [int(child) for child in text.split()]

    def seconds(self) -> float:
        total = 0
        for pid in self._pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / self._tick


def run_phase(port: int, images: list[bytes], concurrency: int, seconds: float) -> Phase:
    """``concurrency`` threads, each with one keep-alive connection, for ``seconds``."""
    phase = Phase()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        index = offset
        while time.monotonic() < stop_at:
            data = images[index % len(images)]
            index += concurrency
            started = time.perf_counter()
            try:
                status, body = request(
                    port, "POST", "/v1/predict", data, {"Content-Type": "image/jpeg"}, conn
                )
                elapsed = (time.perf_counter() - started) * 1000
                version = str(json.loads(body)["model_version"]) if status == 200 else ""
                error = None if status == 200 else f"HTTP {status}: {body[:200]!r}"
            except (OSError, http.client.HTTPException, ValueError) as exc:
                elapsed, version, error = 0.0, "", repr(exc)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            with lock:
                if error is None:
                    phase.latencies_ms.append(elapsed)
                    phase.versions[version] = phase.versions.get(version, 0) + 1
                else:
                    phase.errors.append(error)
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - started
    return phase


class Swapper:
    """Swaps to the other model version every ``SWAP_EVERY_S`` seconds until stopped."""

    def __init__(self, port: int, versions: list[str]) -> None:
        self._port = port
        self._versions = versions
        self._stop = threading.Event()
        self.swaps = 0
        self.errors: list[str] = []
        self.load_ms: list[float] = []
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> Swapper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        status, body = request(self._port, "GET", "/v1/model")
        current = json.loads(body)["version"]
        next_at = time.monotonic() + SWAP_EVERY_S
        # Start to start every SWAP_EVERY_S; a swap that takes longer is followed at once.
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            next_at += SWAP_EVERY_S
            target = next(v for v in self._versions if v != current)
            started = time.perf_counter()
            status, body = request(
                self._port,
                "POST",
                "/v1/admin/reload",
                json.dumps({"version": target}).encode(),
                headers,
            )
            if status == 200:
                current = target
                self.swaps += 1
                self.load_ms.append((time.perf_counter() - started) * 1000)
            else:
                self.errors.append(f"HTTP {status}: {body[:200]!r}")
