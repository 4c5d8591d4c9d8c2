"""Benchmark: what the house costs. The app's size (blocks and events, in all and per demo) and
its cold start against the bare imports.

    python tests/benchmarks/bench_house.py [--rounds 3]

Prints, for this machine:
- gradio blocks and events of the whole app, and of each demo (its tab's components and the
  events that serve it: each demo is built once, its page at /<slug> is that tab);
- cold start: `python app.py` until it answers its first request, against a bare
  `import gradio, torch, transformers` in a fresh interpreter, taking turns, --rounds of each;
  the medians and their ratio (target: at most 1.0 x). Two first requests: /softmax (the app
  alone) and /classify_digit (which imports torch and loads the digit networks).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from common import digit_png, import_time, machine, server  # noqa: E402


def sizes() -> None:
    import app

    demo = app.build_app()
    config = demo.get_config_file()
    print(f"the app: {len(demo.blocks)} blocks, {len(demo.fns)} events "
          f"({sum(fn.api_visibility == 'public' for fn in demo.fns.values())} public)")
    for d in app.DEMOS:
        page = config["page"][d.slug]
        print(f"  {d.title} (/{d.slug}): {len(page['components'])} blocks, "
              f"{len(page['dependencies'])} events")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    print(f"machine: {machine()}")
    sizes()
    from gradio_client import handle_file

    sketch = {"background": handle_file(digit_png("/tmp/bench_house_digit.png")), "layers": [],
              "composite": None}
    bares, firsts = [], {"softmax": [], "classify_digit": []}
    for _ in range(args.rounds):
        bares.append(import_time(1))
        for name in firsts:
            with server(["app.py"]) as (client, started, _):
                t = time.perf_counter()
                if name == "softmax":
                    client.predict(logits="1, 2", temperature=1, api_name="/softmax")
                else:
                    client.predict(sketch, api_name="/classify_digit")
                firsts[name].append(started + time.perf_counter() - t)
    bare = statistics.median(bares)
    print(f"bare import gradio, torch, transformers: {', '.join(f'{b:.2f}' for b in bares)} s "
          f"(median {bare:.2f})")
    for name, colds in firsts.items():
        cold = statistics.median(colds)
        print(f"python app.py -> first answered /{name}: {', '.join(f'{c:.2f}' for c in colds)}"
              f" s; median {cold:.2f} s = {cold / bare:.2f} x the bare import")


if __name__ == "__main__":
    main()
