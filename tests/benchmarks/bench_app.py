"""Benchmark: app start-up and /classify_digit latency through the public API.

    python tests/benchmarks/bench_app.py [--calls 30]

Prints, for this machine:
- the bare `import gradio, torch, transformers` time (median of 3 fresh interpreters);
- the time from starting `python app.py` to its first answered /classify_digit request;
- the median and 90th-percentile latency of /classify_digit through gradio_client.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    except OSError:
        mem = float("nan")
    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, "
            f"Python {platform.python_version()}, {platform.system()}")


def import_time() -> float:
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import gradio, torch, transformers"], check=True,
                       env=ENV, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def digit_png(path: Path, index: int = 0) -> Path:
    data = np.load(ROOT / "tests" / "data" / "mnist_heldout.npz")
    Image.fromarray(data["images"][index]).resize((280, 280)).save(path)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=30)
    args = p.parse_args()

    from gradio_client import Client, handle_file

    print(f"machine: {machine()}")
    print(f"import gradio, torch, transformers: {import_time():.2f} s (median of 3)")

    port = free_port()
    png = digit_png(Path("/tmp") / "bench_digit.png")
    sketch = {"background": handle_file(str(png)), "layers": [], "composite": None}
    t0 = time.perf_counter()
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              env={**ENV, "GRADIO_SERVER_PORT": str(port),
                                   "GRADIO_SERVER_NAME": "127.0.0.1"})
    try:
        url = f"http://127.0.0.1:{port}/"
        client = None
        while client is None:
            if time.perf_counter() - t0 > 180:
                raise SystemExit("the app did not answer within 180 s")
            if server.poll() is not None:
                raise SystemExit("the app exited")
            try:
                client = Client(url, verbose=False)
            except Exception:
                time.sleep(0.1)
        client.predict(sketch, api_name="/classify_digit")
        print(f"python app.py -> first answered /classify_digit: "
              f"{time.perf_counter() - t0:.2f} s")
        latencies = []
        for _ in range(args.calls):
            t = time.perf_counter()
            client.predict(sketch, api_name="/classify_digit")
            latencies.append(time.perf_counter() - t)
        latencies.sort()
        print(f"/classify_digit through gradio_client, {args.calls} calls: median "
              f"{statistics.median(latencies) * 1000:.0f} ms, "
              f"p90 {latencies[int(0.9 * (len(latencies) - 1))] * 1000:.0f} ms")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
