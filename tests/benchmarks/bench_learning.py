"""Benchmark: the Learning tab's live training.

    python tests/benchmarks/bench_learning.py [--calls 30] [--browser]

Prints, for this machine:
- training steps per second of the default network (default preset), in-process: flat out, and
  as a run paces itself (it trains models.runner.TRAIN_SHARE of the time, leaving the rest to
  other visitors);
- the tiny transformer's training steps per second (flat out, and paced), and the step and
  the seconds at which the induction head forms on `repeat` (seeds 0-4);
- frames per second of /train_network reaching a client (gradio_client, on loopback), and with
  --browser those drawn by headless Chromium on this same machine, with every neuron's picture
  drawn and without (target: at least 5 with them), and the transformer's frames;
- /classify_digit latency on an idle server and while two network trainings and one
  transformer training run at once (target: at most 2 x idle), with gradio's floor (a trivial
  echo endpoint) from the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import ROOT, echo_floor, machine, server, summary, timed  # noqa: E402

from models import learning, runner  # noqa: E402
from models.learning import transformer as lt  # noqa: E402

P = learning.DEFAULT
TRAIN = dict(dataset=P.dataset, noise=P.noise, layers=", ".join(map(str, P.layers)),
             activation=P.activation, learning_rate=P.learning_rate, batch_size=P.batch_size,
             seed=0)


def in_process():
    run = learning.Training(learning.Config.checked(**{k: TRAIN[k] for k in (
        "dataset", "noise", "layers", "activation", "seed")}), P.learning_rate, P.batch_size)
    for _ in range(50):
        run.step()
    t = time.perf_counter()
    for _ in range(1000):
        run.step()
    flat_out = 1000 / (time.perf_counter() - t)
    t = time.perf_counter()
    states = list(runner.iterate(run.run(P.steps)))
    paced = P.steps / (time.perf_counter() - t)
    print(f"default network {'-'.join(map(str, (2, *P.layers, 2)))}, batch {P.batch_size}: "
          f"{flat_out:.0f} steps/s flat out; a run of {P.steps} steps: {paced:.0f} steps/s "
          f"overall, {len(states)} frames (it trains {runner.TRAIN_SHARE:.0%} of the time)")


def transformer_in_process():
    task = lt.TASKS["repeat"]
    run = lt.Run("repeat", 2, 2, 0)
    for _ in range(20):
        run.step()
    t = time.perf_counter()
    for _ in range(300):
        run.step()
    flat_out = 300 / (time.perf_counter() - t)
    formed = []
    for seed in range(5):
        run = lt.Run("repeat", 2, 2, seed)
        t = time.perf_counter()
        while run.formed_at is None and run.steps < task.steps:
            for _ in range(10):
                run.step()
            run.record()
        formed.append((run.formed_at, time.perf_counter() - t))
    run = lt.Run("repeat", 2, 2, 0)
    t = time.perf_counter()
    for _ in runner.iterate(run.run(task.steps)):
        if run.formed_at is not None:
            break
    paced = time.perf_counter() - t
    steps = [f[0] for f in formed]
    print(f"transformer (repeat, 2 layers x 2 heads, width {lt.WIDTH}, batch {lt.BATCH}): "
          f"{flat_out:.0f} steps/s flat out; the induction head forms (score > "
          f"{lt.INDUCTION_FORMED}) at steps {steps} for seeds 0-4, "
          f"{statistics.median(f[1] for f in formed):.1f} s flat out (median; the score is read "
          f"every 10 steps), {paced:.1f} s into a paced Play (seed 0, training "
          f"{runner.TRAIN_SHARE:.0%} of the time)")


def client_frames(client, steps: int) -> tuple[float, int, float]:
    """(frames per second reaching the client, frames, seconds) for one training run."""
    job = client.submit(**TRAIN, steps=steps, api_name="/train_network")
    seen, times = 0, []
    while not job.done() or len(job.outputs()) > seen:
        n = len(job.outputs())
        if n > seen:
            times += [time.perf_counter()] * (n - seen)
            seen = n
        time.sleep(0.002)
    job.result(timeout=120)
    span = times[-1] - times[0]
    return (len(times) - 1) / span if span else float("nan"), len(times), span


def browser_frames(url: str, neurons: bool = True, section: str = "train"
                   ) -> tuple[float, int]:
    """Frames drawn by headless Chromium (status updates seen in the page) for one run of the
    default preset (or the transformer's, section "transformer"), every neuron drawn or not:
    (frames per second, frames)."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import CHROMIUM

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url.rstrip('/')}/learning")
        page.wait_for_selector("#train-boundary .js-plotly-plot", timeout=60_000)
        page.wait_for_selector("#transformer-attention .js-plotly-plot", timeout=60_000)
        if not neurons:
            page.locator("#train-show-neurons input").uncheck()
        page.wait_for_timeout(1000)
        page.evaluate("""s => { window.frames_seen = [];
          const el = document.querySelector(`#${s}-status`);
          new MutationObserver(() => {
            const m = el.innerText.match(/Step ([\\d,]+)/);
            if (m && !window.frames_seen.some(f => f[1] === m[1]))
              window.frames_seen.push([performance.now(), m[1]]);
          }).observe(el, {subtree: true, childList: true, characterData: true}); }""", section)
        page.click(f"#{section}-play")
        page.wait_for_function(f"() => document.querySelector('#{section}-status').innerText"
                               ".includes('Done')", timeout=120_000)
        frames = page.evaluate("() => window.frames_seen")
        browser.close()
    span = (frames[-1][0] - frames[0][0]) / 1000
    return (len(frames) - 1) / span, len(frames)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=30)
    p.add_argument("--browser", action="store_true", help="also count frames drawn in Chromium")
    args = p.parse_args()
    import numpy as np
    from gradio_client import Client, handle_file
    from PIL import Image

    print(f"machine: {machine()}")
    in_process()
    transformer_in_process()
    floor = echo_floor(args.calls)
    print(f"gradio's floor (echo): median {floor * 1000:.0f} ms")

    digit = "/tmp/bench_learning_digit.png"
    data = np.load(ROOT / "tests" / "data" / "mnist_heldout.npz")
    Image.fromarray(255 - data["images"][0]).resize((280, 280)).save(digit)
    sketch = {"background": handle_file(digit), "layers": [], "composite": None}

    with server(["app.py"]) as (client, _, _):
        client.predict(sketch, api_name="/classify_digit")
        client_frames(client, 200)  # warm up
        fps = [client_frames(client, P.steps) for _ in range(3)]
        rates = [f[0] for f in fps]
        print(f"/train_network, default preset ({P.steps} steps): "
              f"{statistics.median(rates):.1f} frames/s reaching the client (median of 3; "
              f"{fps[0][1]} frames in {fps[0][2]:.1f} s)")
        if args.browser:
            for neurons in (True, False):
                rate, n = browser_frames(client.src, neurons)
                print(f"  drawn by headless Chromium on this machine, every neuron "
                      f"{'drawn' if neurons else 'not drawn'}: {rate:.1f} frames/s "
                      f"({n} frames; target: at least 5 with them)")
            rate, n = browser_frames(client.src, section="transformer")
            print(f"  the transformer's Play (repeat, {lt.TASKS['repeat'].steps} steps) drawn by "
                  f"headless Chromium: {rate:.1f} frames/s ({n} frames)")

        idle = timed(lambda: client.predict(sketch, api_name="/classify_digit"), args.calls)
        print(f"/classify_digit, idle server: {summary(idle, floor)}")
        stop = threading.Event()

        def trainer():
            other = Client(client.src, verbose=False)
            while not stop.is_set():
                job = other.submit(**TRAIN, steps=learning.MAX_STEPS, api_name="/train_network")
                while not job.done() and not stop.is_set():
                    time.sleep(0.05)
                job.cancel()

        def transformer():
            other = Client(client.src, verbose=False)
            while not stop.is_set():
                job = other.submit(task="repeat", layers=2, heads=2, steps=lt.MAX_STEPS,
                                   seed=0, api_name="/train_transformer")
                while not job.done() and not stop.is_set():
                    time.sleep(0.05)
                job.cancel()

        threads = [threading.Thread(target=trainer) for _ in range(2)]
        threads.append(threading.Thread(target=transformer))
        for th in threads:
            th.start()
        time.sleep(3)  # all three trainings under way
        busy = timed(lambda: client.predict(sketch, api_name="/classify_digit"), args.calls)
        stop.set()
        for th in threads:
            th.join(timeout=60)
        ratio = statistics.median(busy) / statistics.median(idle)
        print(f"/classify_digit, two network trainings and a transformer's running: "
              f"{summary(busy, floor)}; "
              f"{ratio:.2f} × idle (target: at most 2)")


if __name__ == "__main__":
    main()
