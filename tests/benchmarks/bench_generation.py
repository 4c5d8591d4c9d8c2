"""Benchmark: the Text generation tab's model code and endpoints.

    python tests/benchmarks/bench_generation.py [--runs 5] [--calls 30]

Prints, for this machine:
- tokens per second of the bundled GPT through our loop (models.generation.stream) and through
  a plain `model.generate` with the same settings, in the same process, 200 new tokens, greedy
  and sampled (temperature 0.8, top-k 40, top-p 0.95), alternating, median of --runs each;
- through the API: gradio's floor (a trivial echo endpoint), the time to the first streamed
  token of /generate_text, and the latency of /next_token_distribution.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import echo_floor, machine, server, summary, timed  # noqa: E402

N_NEW = 200
PROMPT = "ROMEO.\n"


def tokens_per_second(runs: int) -> None:
    import torch

    from models import generation, registry

    loaded = registry.load("generation")
    x = loaded.tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    settings = {"greedy": dict(temperature=0.0, top_k=0, top_p=1.0),
                "sampled": dict(temperature=0.8, top_k=40, top_p=0.95)}
    for name, s in settings.items():
        ours, theirs = [], []
        for run in range(runs + 1):  # the first of each is a warm-up
            t = time.perf_counter()
            n = len(list(generation.stream(PROMPT, max_new_tokens=N_NEW, seed=run, **s)))
            if run:
                ours.append(n / (time.perf_counter() - t))
            extra = (dict(do_sample=False) if s["temperature"] == 0 else
                     dict(do_sample=True, temperature=s["temperature"], top_k=s["top_k"],
                          top_p=s["top_p"]))
            torch.manual_seed(run)
            t = time.perf_counter()
            with torch.no_grad():
                out = loaded.model.generate(x, attention_mask=torch.ones_like(x),
                                            max_new_tokens=N_NEW, min_new_tokens=N_NEW,
                                            pad_token_id=0, **extra)
            if run:
                theirs.append((out.shape[1] - x.shape[1]) / (time.perf_counter() - t))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{name}, {N_NEW} new tokens: ours {a:.0f} tokens/s, model.generate {b:.0f} "
              f"tokens/s (ours {abs(100 * (a - b) / b):.1f} % {'faster' if a >= b else 'slower'}; "
              f"median of {runs})")


def api(calls: int) -> None:
    floor = echo_floor(calls)
    print(f"gradio's floor (trivial echo endpoint): median {floor * 1000:.0f} ms")
    with server(["app.py"]) as (client, _, _):
        args = dict(prompt=PROMPT, temperature=0.8, top_k=40, top_p=0.95)
        client.predict(**args, api_name="/next_token_distribution")  # loads the model
        first = []
        for i in range(max(5, calls // 3)):
            t = time.perf_counter()
            job = client.submit(**args, max_new_tokens=N_NEW, seed=i, api_name="/generate_text")
            while not job.outputs() and not job.done():
                time.sleep(0.002)
            first.append(time.perf_counter() - t)
            job.result(timeout=120)
        print(f"/generate_text, time to the first streamed token: {summary(first, floor)}")
        print("/next_token_distribution: " + summary(timed(
            lambda: client.predict(**args, api_name="/next_token_distribution"), calls), floor))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--calls", type=int, default=30)
    args = p.parse_args()
    import torch

    torch.set_num_threads(2)
    print(f"machine: {machine()}")
    tokens_per_second(args.runs)
    api(args.calls)


if __name__ == "__main__":
    main()
