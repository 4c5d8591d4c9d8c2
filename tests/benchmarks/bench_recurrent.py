"""Benchmark: the Recurrent networks tab.

    python tests/benchmarks/bench_recurrent.py [--seeds 3] [--calls 20] [--skip-api]

Prints, for this machine:
- live training speed: memory-task steps per second for each cell (defaults: hidden 32, batches
  of 32, delay 20), in-process, one thread (as the app runs);
- which cells learn the memory task within the default budget (600 steps), against the delay:
  the accuracy of each cell for each delay and seed;
- one training step against the sequence length, for an LSTM layer and a transformer layer of
  the same width, with one thread and with two (the transformer's work spreads over the cores;
  the LSTM's chain of steps does not);
- the shipped LSTM's and GPT's loss on the whole held-out play, from their training logs, and on
  the shipped excerpt, measured here;
- the tab's endpoints through the API against gradio's floor in the same run (a trivial echo).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the app runs (before torch is imported)
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import ECHO_APP, against_floor, machine, server  # noqa: E402

DELAYS = (5, 10, 20, 30, 40, 60)


def training_speed(torch, rec):
    print("live training, memory task (delay 20, hidden 32, batch 32), one thread:")
    for cell in rec.CELLS:
        run = rec.Run(cell=cell, delay=20, seed=0)
        for _ in range(20):
            run.step()
        t = time.perf_counter()
        n = 200
        for _ in range(n):
            run.step()
        print(f"  {rec.CELLS[cell]:4s}: {n / (time.perf_counter() - t):6.0f} steps/s")


def learning_against_delay(rec, seeds: int):
    steps = rec.SETTINGS["steps"].default
    print(f"accuracy after {steps} steps (the default budget), seeds 0-{seeds - 1} "
          f"(chance {rec.CHANCE:.0%}):")
    for delay in DELAYS:
        row = []
        for cell in rec.CELLS:
            accuracies = []
            for seed in range(seeds):
                run = rec.Run(cell=cell, delay=delay, seed=seed)
                for _ in range(steps):
                    run.step()
                accuracies.append(run.evaluate()[1])
            learned = sum(a >= rec.LEARNED for a in accuracies)
            row.append(f"{rec.CELLS[cell]} {' '.join(f'{a:4.0%}' for a in accuracies)} "
                       f"({learned}/{seeds} learned)")
        print(f"  delay {delay:2d}: " + " | ".join(row), flush=True)


def step_times(torch, lang):
    for threads in (1, 2):
        torch.set_num_threads(threads)
        timed = lang.step_times()
        print(f"one training step (batch {timed['batch']}, width {timed['width']}), "
              f"{threads} thread{'s' if threads > 1 else ''}:")
        for T, a, b in zip(timed["lengths"], timed["lstm"], timed["transformer"]):
            print(f"  T = {T:4d}: LSTM {a * 1000:7.1f} ms, transformer {b * 1000:7.1f} ms")
    torch.set_num_threads(1)


def held_out(lang):
    print("loss on held-out Julius Caesar (nats per character):")
    for key, f in lang.held_out().items():
        print(f"  {key}: whole play {f['nats_per_char']:.3f} (training log; "
              f"{f['parameters'] / 1e6:.2f}M parameters, {f['train_seconds'] / 60:.0f} min)")
    text = lang.EXCERPT.read_text(encoding="utf-8")
    for key in lang.MODELS:
        print(f"  {key}: shipped excerpt ({len(text):,} characters) "
              f"{lang.score_text(text[:lang.MAX_CHARS], key)['nats_per_char']:.3f}")


def through_the_api(calls: int):
    text = "Friends, Romans, countrymen, lend me your ears;\nI come to bury Caesar."
    with server(["app.py"]) as (client, _, _), server(["-c", ECHO_APP]) as (echo, _, _):
        for model in ("shakespeare-lstm", "shakespeare-gpt"):  # loads the models once
            client.predict(text=text, model=model, api_name="/score_text")

        def generate():
            job = client.submit(prompt="ROMEO.\n", temperature=0.8, max_new_tokens=50, seed=0,
                                api_name="/lstm_generate")
            job.result()

        calls_ = {
            "echo": lambda: echo.predict("hi", api_name="/echo"),
            "unroll": lambda: client.predict(cell="lstm", sequence="Awxy?", hidden=3, seed=0,
                                             api_name="/unroll"),
            "gradient_through_time": lambda: client.predict(
                cell="rnn", delay=20, seed=0, init_scale=3.0, api_name="/gradient_through_time"),
            "score_text (LSTM, 70 characters)": lambda: client.predict(
                text=text, model="shakespeare-lstm", api_name="/score_text"),
            "score_text (GPT, 70 characters)": lambda: client.predict(
                text=text, model="shakespeare-gpt", api_name="/score_text"),
            "lstm_generate (50 characters, streamed)": generate,
        }
        results = against_floor(calls_, calls)
        floor = statistics.median(results["echo"])
        t = time.perf_counter()
        job = client.submit(cell="lstm", delay=20, steps=600, seed=0,
                            api_name="/train_recurrent")
        job.result()
        print(f"  /train_recurrent, the default budget (600 steps, paced at the runner's share):"
              f" {time.perf_counter() - t:.1f} s ({(time.perf_counter() - t) / floor:.0f} × "
              "the floor)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--skip-api", action="store_true")
    args = p.parse_args()
    import torch

    from models import recurrent as rec
    from models.recurrent import language as lang

    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    training_speed(torch, rec)
    step_times(torch, lang)
    held_out(lang)
    learning_against_delay(rec, args.seeds)
    if not args.skip_api:
        through_the_api(args.calls)


if __name__ == "__main__":
    main()
