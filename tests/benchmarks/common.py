"""What the benchmarks share: the machine's description, starting the app (or gradio's own
floor, a trivial echo app) as a separate server on loopback, and summarising latencies."""

from __future__ import annotations

import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
# gradio's floor: the cheapest possible endpoint, in a minimal app of the same gradio.
ECHO_APP = ("import gradio as gr\n"
            "with gr.Blocks() as demo:\n"
            "    t = gr.Textbox()\n"
            "    t.submit(lambda x: x, t, t, api_name='echo')\n"
            "demo.launch(ssr_mode=False)\n")


# The same, for an image: a Sketchpad endpoint that takes the picture and answers "ok". The
# client uploads the file first, so any image endpoint pays this much more than the echo.
SKETCH_APP = ("import gradio as gr\n"
              "with gr.Blocks() as demo:\n"
              "    s = gr.Sketchpad(type='numpy')\n"
              "    t = gr.Textbox()\n"
              "    s.change(lambda x: 'ok', s, t, api_name='sketch')\n"
              "demo.launch(ssr_mode=False)\n")


def digit_png(path: str) -> str:
    """A held-out MNIST digit as a 280 x 280 picture, black on white (as drawn), saved at path."""
    import numpy as np
    from PIL import Image

    data = np.load(ROOT / "tests" / "data" / "mnist_heldout.npz")
    Image.fromarray(255 - data["images"][0]).resize((280, 280)).save(path)
    return path


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


def import_time(n: int = 3) -> float:
    """The bare `import gradio, torch, transformers` in a fresh interpreter, median of n."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import gradio, torch, transformers"], check=True,
                       env=ENV, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(args: list[str], timeout: float = 180):
    """Start a gradio server (`python *args`) on a free loopback port; yield (client, seconds
    from the start until its API answered, the process), and stop it afterwards."""
    from gradio_client import Client

    port = free_port()
    t0 = time.perf_counter()
    process = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               env={**ENV, "GRADIO_SERVER_PORT": str(port),
                                    "GRADIO_SERVER_NAME": "127.0.0.1"})
    try:
        client = None
        while client is None:
            if time.perf_counter() - t0 > timeout:
                raise SystemExit(f"{args} did not answer within {timeout} s")
            if process.poll() is not None:
                raise SystemExit(f"{args} exited")
            try:
                client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            except Exception:
                time.sleep(0.1)
        yield client, time.perf_counter() - t0, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def timed(call, n: int) -> list[float]:
    """Seconds per call, n calls."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        out.append(time.perf_counter() - t)
    return out


def summary(seconds: list[float], floor: float | None = None) -> str:
    s = sorted(seconds)
    p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
    text = (f"median {statistics.median(s) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
            f"({len(s)} calls)")
    if floor:
        text += f", {statistics.median(s) / floor:.2f} × the floor"
    return text


def echo_floor(n: int = 30) -> float:
    """gradio's floor in this run: the median seconds of a trivial echo call."""
    with server(["-c", ECHO_APP]) as (client, _, _):
        client.predict("hi", api_name="/echo")
        return statistics.median(timed(lambda: client.predict("hi", api_name="/echo"), n))


def interleaved(calls: dict, rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each named call, taken in turn, round after round: the host's speed
    drifts (the same script measured 30-60 % apart within an hour here), and calls made minutes
    apart would carry that drift into their ratio; taken in turn, every call sees the same
    host."""
    out: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            t = time.perf_counter()
            call()
            out[name].append(time.perf_counter() - t)
    return out


def against_floor(calls: dict, rounds: int, indent: str = "  ") -> dict[str, list[float]]:
    """Take `calls` in turns (one of them "echo", gradio's floor), `rounds` times, and print
    each one's median and p95 against the floor's median. Returns the seconds."""
    results = interleaved(calls, rounds)
    floor = statistics.median(results["echo"])
    print(f"through the API, {rounds} rounds, calls taking turns:")
    print(f"{indent}floor (echo of a minimal gradio app): {summary(results['echo'])}")
    for name, seconds in results.items():
        if name != "echo":
            print(f"{indent}/{name}: {summary(seconds, floor)}")
    return results


@contextmanager
def counting_http_clients():
    """Count the httpx clients made inside the block (gradio_client makes a new one, with a new
    TLS context, for nearly every HTTP request, plain http included); yields a one-item list."""
    import httpx

    count, init = [0], httpx.Client.__init__

    def counted(self, *args, **kwargs):
        count[0] += 1
        init(self, *args, **kwargs)

    httpx.Client.__init__ = counted
    try:
        yield count
    finally:
        httpx.Client.__init__ = init


def http_client_seconds(n: int = 20) -> float:
    """Median seconds to make (and close) one httpx client as gradio_client makes them."""
    import httpx

    def make():
        httpx.Client(verify=True).close()

    return statistics.median(timed(make, n))
