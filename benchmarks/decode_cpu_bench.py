"""Decode work of 16 worst-case uploads at once: ``python -m benchmarks.decode_cpu_bench``.

What the servers do with each worst-case image (see benchmarks.worst_images),
without the servers: the web app's decode for the thumbnail and the inference
server's decode for the model input, all 16 images started together on a pool
of 16 threads (Pillow releases the GIL while it decodes), with the decode
budget's per-process pools as in production. Run it pinned to two cores
(``taskset -c 0,1``) for the design brief's "2 cores": the slowest image's time
is a floor for the slowest upload of ``decode_memory_bench`` on an idle machine
(HTTP, the catalog and the model add a few milliseconds each).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.output import write_result
from benchmarks.worst_images import worst_case_files
from catdog.decode_budget import DecodeBudget
from catdog.image_decoding import decode_rgb, thumbnail_jpeg
from catdog.preprocessing import preprocess_bytes
from catdog.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "decode_cpu_bench.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.decode_cpu_bench")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    settings = Settings()
    files = worst_case_files(settings)
    # As in production: one pool per web worker process (two) and one for the inference
    # server; here the web work of the 16 uploads is spread over two pools.
    web_pools = [DecodeBudget(settings.max_decode_bytes, settings.decode_pool_bytes, 120.0)] * 2
    inference_pool = DecodeBudget(settings.max_decode_bytes, settings.decode_pool_bytes, 120.0)
    start = threading.Barrier(len(files))

    def one(index_item: tuple[int, tuple[str, bytes]]) -> dict[str, Any]:
        index, (key, data) = index_item
        start.wait(60)
        began = time.perf_counter()
        cpu = time.thread_time()
        rgb, _ = decode_rgb(
            data,
            settings.max_image_pixels,
            web_pools[index % 2],
            settings.thumbnail_size,
            "contain",
        )
        thumbnail_jpeg(rgb, settings.thumbnail_size)
        del rgb
        preprocess_bytes(
            data, settings.training_input_size, settings.max_image_pixels, inference_pool
        )
        return {
            "key": key,
            "bytes": len(data),
            "seconds": round(time.perf_counter() - began, 3),
            "thread_cpu_s": round(time.thread_time() - cpu, 3),
        }

    began = time.perf_counter()
    with ThreadPoolExecutor(len(files)) as pool:
        results = list(pool.map(one, enumerate(files.items())))
    wall = time.perf_counter() - began
    cores = len(os.sched_getaffinity(0))
    result = {
        "benchmark": "decode_cpu_worst_case_uploads",
        "cores_available": cores,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "uploads": len(files),
        "all_done_s": round(wall, 2),
        "slowest_s": max(r["seconds"] for r in results),
        "cpu_s_total": round(sum(r["thread_cpu_s"] for r in results), 2),
        "target_upload_s": 5.0,
        "results": results,
        "note": "thumbnail decode + model-input decode of each image, 16 at once, with the"
        " production decode pools; no HTTP, catalog or model",
    }
    return write_result(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
