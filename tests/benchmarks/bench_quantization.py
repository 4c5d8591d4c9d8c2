"""Benchmark: the Quantization tab, and the table of every setting.

    python tests/benchmarks/bench_quantization.py [--calls 20] [--no-table]

Prints, for this machine:
- the table of every setting (bits × scheme × granularity) for both models: size, the weights'
  mean squared error, and the GPT's held-out loss (nats per character on the shipped excerpt of
  Julius Caesar) or the sentiment model's accuracy (400 held-out sentences), in-process;
- through the API (gradio_client), against gradio's floor in the same run (a trivial echo
  endpoint of a minimal app on a server of its own, the calls taking turns): /float_bits,
  /quantize_numbers, /ptq_vs_qat (cached after its first call), /quantize_model first time
  (a setting not yet computed on that server) and cached.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ECHO_APP, against_floor, machine, server  # noqa: E402


def table():
    from models import quantization as quant

    for model in quant.MODELS:
        measure = "loss (nats/char)" if model == "shakespeare-gpt" else "accuracy"
        print(f"\n{model}: float {measure} "
              f"{quant.quantize_model(model, 8, 'absmax', 'row')['baseline']:.4f}")
        print(f"| bits | scheme | scale | size (MB) | × smaller | weight MSE | {measure} |")
        print("|---:|---|---|---:|---:|---:|---:|")
        for bits in quant.BITS:
            for scheme in quant.SCHEMES:
                for granularity in quant.GRANULARITIES:
                    t = time.perf_counter()
                    r = quant.quantize_model(model, bits, scheme, granularity)
                    took = time.perf_counter() - t
                    figure = r.get("loss_nats_per_char", r.get("accuracy"))
                    size = r["bytes"]
                    print(f"| {bits} | {scheme} | per {granularity} | "
                          f"{size['quantized'] / 1e6:.2f} | "
                          f"{size['fp32'] / size['quantized']:.1f} | {r['weight_mse']:.2e} | "
                          f"{figure:.4f} |  ({took:.1f} s)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--no-table", action="store_true")
    args = p.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the app runs
    print(f"machine: {machine()}")
    if not args.no_table:
        table()

    with server(["app.py"]) as (client, _, _), server(["-c", ECHO_APP]) as (echo, _, _):
        def model_call(bits, scheme, granularity, model="shakespeare-gpt"):
            return lambda: client.predict(model=model, bits=bits, scheme=scheme,
                                          granularity=granularity, api_name="/quantize_model")

        for model in ("shakespeare-gpt", "sentiment-minilm"):  # first time: loads, copies
            for bits, scheme, granularity in ((8, "absmax", "row"), (4, "zeropoint", "row")):
                t = time.perf_counter()
                model_call(bits, scheme, granularity, model)()
                print(f"/quantize_model {model} {bits}-bit {scheme} per {granularity}, first "
                      f"time on the server: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        client.predict(bits=2, dataset="circles", api_name="/ptq_vs_qat")
        print(f"/ptq_vs_qat 2 bits, circles, first time: {time.perf_counter() - t:.2f} s")
        calls = {
            "echo": lambda: echo.predict("hi", api_name="/echo"),
            "float_bits": lambda: client.predict(value="0.1", format="bf16",
                                                 api_name="/float_bits"),
            "quantize_numbers": lambda: client.predict(
                numbers="0.1, -1.5, 3.2, 0.7, -0.4, 2.1, -0.9, 1.3", bits=8, scheme="absmax",
                api_name="/quantize_numbers"),
            "quantize_model (cached)": model_call(8, "absmax", "row"),
            "ptq_vs_qat (cached)": lambda: client.predict(bits=2, dataset="circles",
                                                          api_name="/ptq_vs_qat"),
        }
        against_floor(calls, args.calls)


if __name__ == "__main__":
    main()
