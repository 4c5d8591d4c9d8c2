"""Benchmark: the Inside a GPT tab.

    python tests/benchmarks/bench_gpt.py [--calls 20]

Prints, for this machine:
- in-process: one trace (the hooked forward pass), the view and the figures of /inside_gpt,
  and /logit_lens (after each half), at 32, 128 and 256 tokens;
- through the API (gradio_client), /inside_gpt and /logit_lens at 32, 128 and 256 tokens,
  median and p95, against gradio's floor in the same run (a trivial echo endpoint of a minimal
  app, served beside the app; their calls take turns, so the host's drift falls on all alike;
  target: at most 2 × the floor at 128 tokens), and /knock_out and /weight_counts;
- the size of what a client receives: the JSON output and the figures, per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ECHO_APP, ROOT, against_floor, machine, server, timed  # noqa: E402

HELD_OUT = ROOT / "tests" / "data" / "shakespeare_heldout.txt"


def text_of(n_tokens: int) -> str:
    """The start of the held-out play that makes exactly n_tokens for the bundled GPT."""
    from models import registry

    tokenizer = registry.load("generation").tokenizer
    ids = tokenizer(HELD_OUT.read_text())["input_ids"][:n_tokens]
    text = tokenizer.decode(ids)
    assert len(tokenizer(text)["input_ids"]) == n_tokens
    return text


def size_kb(output) -> tuple[float, float]:
    """(the JSON output, the figures) in KB, as the client received them."""
    first, *rest = output
    figures = sum(len(o["plot"]) for o in rest if isinstance(o, dict) and "plot" in o)
    return len(json.dumps(first)) / 1000, figures / 1000


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=20)
    args = p.parse_args()
    print(f"machine: {machine()}")
    import os

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the app runs
    from demos import gpt as tab
    from models import gpt as inside

    texts = {n: text_of(n) for n in (32, 128, 256)}
    print("\nin-process (median of 10):")
    for n, text in texts.items():
        trace = statistics.median(timed(lambda t=text: inside.trace(None, t), 10)) * 1000
        whole = statistics.median(timed(lambda t=text: tab.inside_gpt(t, None, 0, 6, 8, 1.0),
                                        10)) * 1000
        lens = statistics.median(timed(lambda t=text: tab.logit_lens(t, None, True), 10)) * 1000
        print(f"  {n:3d} tokens: trace {trace:.0f} ms, /inside_gpt (trace + view + figures) "
              f"{whole:.0f} ms, /logit_lens after each half {lens:.0f} ms")

    with server(["app.py"]) as (client, _, _), server(["-c", ECHO_APP]) as (echo, _, _):
        calls = {"echo": lambda: echo.predict("hi", api_name="/echo")}
        for n, text in texts.items():
            calls[f"inside_gpt {n}"] = (lambda t=text: client.predict(
                text=t, model="shakespeare-gpt", position=0, layer=6, head=8, temperature=1.0,
                api_name="/inside_gpt"))
            calls[f"logit_lens {n}"] = (lambda t=text: client.predict(
                text=t, model="shakespeare-gpt", split=True, api_name="/logit_lens"))
        calls["knock_out 128"] = lambda: client.predict(
            text=texts[128], model="shakespeare-gpt", part="head", layer=3, head=2,
            api_name="/knock_out")
        calls["weight_counts"] = lambda: client.predict(api_name="/weight_counts")
        for call in calls.values():  # warm-up: loads the model, builds GPT-2 small's table
            call()
        against_floor(calls, args.calls)
        print("\nwhat a client receives per request (KB: JSON output, figures):")
        for n, text in texts.items():
            out = client.predict(text=text, model="shakespeare-gpt", position=0, layer=6,
                                 head=8, temperature=1.0, api_name="/inside_gpt")
            lens = client.predict(text=text, model="shakespeare-gpt", split=True,
                                  api_name="/logit_lens")
            j, f = size_kb(out)
            lj, lf = size_kb(lens)
            print(f"  {n:3d} tokens: /inside_gpt {j:.0f} + {f:.0f} KB, /logit_lens "
                  f"{lj:.0f} + {lf:.0f} KB")


if __name__ == "__main__":
    main()
