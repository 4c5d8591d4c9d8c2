"""Benchmark: app start-up and /classify_digit latency through the public API.

    python tests/benchmarks/bench_app.py [--calls 30]

Prints, for this machine:
- the bare `import gradio, torch, transformers` time (median of 3 fresh interpreters);
- the time from starting `python app.py` to its first answered /classify_digit request;
- the median and 90th-percentile latency of /classify_digit through gradio_client.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, import_time, machine, server  # noqa: E402


def digit_png(path: Path, index: int = 0) -> Path:
    data = np.load(ROOT / "tests" / "data" / "mnist_heldout.npz")
    Image.fromarray(data["images"][index]).resize((280, 280)).save(path)
    return path


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=30)
    args = p.parse_args()

    from gradio_client import handle_file

    print(f"machine: {machine()}")
    print(f"import gradio, torch, transformers: {import_time():.2f} s (median of 3)")

    png = digit_png(Path("/tmp") / "bench_digit.png")
    sketch = {"background": handle_file(str(png)), "layers": [], "composite": None}
    with server(["app.py"]) as (client, started, _):
        t0 = time.perf_counter()
        client.predict(sketch, api_name="/classify_digit")
        print(f"python app.py -> first answered /classify_digit: "
              f"{started + time.perf_counter() - t0:.2f} s")
        latencies = []
        for _ in range(args.calls):
            t = time.perf_counter()
            client.predict(sketch, api_name="/classify_digit")
            latencies.append(time.perf_counter() - t)
        latencies.sort()
        print(f"/classify_digit through gradio_client, {args.calls} calls: median "
              f"{statistics.median(latencies) * 1000:.0f} ms, "
              f"p90 {latencies[int(0.9 * (len(latencies) - 1))] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
