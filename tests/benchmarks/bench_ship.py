"""Benchmark: the whole app as it ships. Starts `python app.py` on loopback, as a new user would.

    python tests/benchmarks/bench_ship.py [--calls 20] [--clients 16] [--seconds 60]

Prints, for this machine:
- cold start: `python app.py` -> first answered request, against a bare
  `import gradio, torch, transformers`, taking turns, three of each (target: at most 1.0 x);
- the first answer of every tab on that fresh server (the language tabs load transformers and
  their model on their first request);
- latency (median, p95) of every endpoint through gradio_client, against gradio's floor (a
  trivial echo endpoint of a minimal app) and, for the picture, a do-nothing Sketchpad endpoint:
  both floors run as servers of their own beside the app, and the calls take turns (echo,
  picture, every endpoint; --calls rounds), so that the host's drift falls on all alike;
- the server's peak resident memory with every bundled model loaded and used (target < 1.5 GB);
- load: --clients concurrent clients, each a gradio_client in its own process, calling a mix
  of endpoints (generation and a training run included) for --seconds, on loopback only and
  bounded in time: failures (target: none), p95 of the classification endpoints (target < 1 s),
  throughput, and whether the server answers normally afterwards.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    ECHO_APP,
    SKETCH_APP,
    counting_http_clients,
    digit_png,
    http_client_seconds,
    import_time,
    interleaved,
    machine,
    server,
    summary,
)

SENTENCE = "The food was cold and the service slow, but the view was stunning."
TEXT = "The animal didn't cross the street because it was too tired."
GPT_TEXT = "ROMEO.\nBut soft, what light through yonder window breaks? It is the east."


def calls(digit):
    """Each endpoint with a typical request."""
    from gradio_client import handle_file

    sketch = {"background": handle_file(digit), "layers": [], "composite": None}
    return {
        "classify_digit": ([sketch], {}),
        "digit_layers": ([sketch], {}),
        "digit_saliency": ([sketch], {}),
        "dream_digit": ([], dict(digit=3, steps=300, seed=0)),
        "plot_activations": ([], dict(functions=["sigmoid", "relu"], x_min=-6, x_max=6,
                                      show_derivatives=True, alpha=0.1)),
        "softmax": ([], dict(logits="2, 1, 0.1", temperature=0.5)),
        "next_token_distribution": ([], dict(prompt="ROMEO.\n", temperature=0.8, top_k=40,
                                             top_p=0.95)),
        "classify_sentiment": ([], dict(text=SENTENCE)),
        "explain_sentiment": ([], dict(text=SENTENCE)),
        "attention_map": ([], dict(text=TEXT, model="sentiment-minilm", layer=6, head="mean")),
        "tokenize": ([], dict(text=GPT_TEXT, tokenizer="sentiment-minilm")),
        "nearest_tokens": ([], dict(word="king", model="sentiment-minilm", k=10)),
        "sentence_map": ([], dict(sentences="I loved the film.\nThe soup was cold.\nA fine day.",
                                  model="fine-tuned")),
        "float_bits": ([], dict(value="0.1", format="bf16")),
        "quantize_numbers": ([], dict(numbers="0.1, -1.5, 3.2, 0.7", bits=8, scheme="absmax")),
        "quantize_model": ([], dict(model="shakespeare-gpt", bits=4, scheme="zeropoint",
                                    granularity="row")),
        "inside_gpt": ([], dict(text=GPT_TEXT, model="shakespeare-gpt", position=0, layer=3,
                                head=2, temperature=1.0)),
        "logit_lens": ([], dict(text=GPT_TEXT, model="shakespeare-gpt", split=True)),
        "knock_out": ([], dict(text=GPT_TEXT, model="shakespeare-gpt", part="mlp", layer=2,
                               head=1)),
        "descend": ([], dict(surface="valley", start_w1=-3.5, start_w2=0.5, learning_rate=0.4,
                             momentum=0.5, steps=50)),
        "backprop_step": ([], dict(dataset="xor", noise=0.05, point=3, batch_size=8,
                                   learning_rate=1.0, activation="tanh")),
    }


TRAINING = dict(dataset="circles", noise=0.05, layers="8, 8, 8", activation="tanh",
                learning_rate=0.3, batch_size=10, steps=500, seed=0)
TRANSFORMER = dict(task="repeat", layers=2, heads=2, steps=300, seed=0)


def first_token(client, **kwargs) -> tuple[float, float]:
    """(seconds to the first streamed update, tokens per second over the whole generation)."""
    t = time.perf_counter()
    job = client.submit(prompt="ROMEO.\n", temperature=0.8, top_k=40, top_p=0.95, seed=0,
                        api_name="/generate_text", **kwargs)
    while not job.outputs() and not job.done():
        time.sleep(0.002)
    first = time.perf_counter() - t
    job.result(timeout=120)
    status = job.outputs()[-1][1]  # "**N tokens in S s: R tokens per second**"
    rate = float(status.split(":")[1].split("tokens per second")[0].strip().strip("*"))
    return first, rate


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _client(i: int, url: str, digit: str, seconds: float, ready, out) -> None:
    """One load-test client, in a process of its own: calls a random endpoint in a loop for
    `seconds` once every client is ready (each call bounded by a 120 s timeout), then hands its
    (endpoint, seconds, True or the error) back."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    rng = random.Random(i)
    mix = calls(digit)
    names = [n for n in mix if n != "dream_digit"] + ["generate_text"] * 2 + [
        "train_network", "train_transformer"]
    results = []
    ready.wait()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        name = rng.choice(names)
        t = time.perf_counter()
        try:
            if name == "generate_text":
                client.predict(prompt="ROMEO.\n", temperature=0.8, max_new_tokens=50,
                               top_k=40, top_p=0.95, seed=i, api_name="/generate_text")
            elif name == "train_network":  # a training run of 500 steps, streamed
                client.predict(**TRAINING, api_name="/train_network")
            elif name == "train_transformer":  # 300 steps of the transformer, streamed
                client.predict(**TRANSFORMER, api_name="/train_transformer")
            else:
                args, kwargs = mix[name]
                client.predict(*args, **kwargs, api_name=f"/{name}")
            ok = True
        except Exception as e:  # a failed request is what we count
            ok = repr(e)[:200]
        results.append((name, time.perf_counter() - t, ok))
    out.put(results)


def load_test(url: str, digit: str, n_clients: int, seconds: float) -> dict:
    """n_clients clients, each in a process of its own as real visitors are on machines of
    their own (16 threads of one process would queue on its one GIL, and measure that), all
    starting together."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    ready, out = ctx.Barrier(n_clients + 1), ctx.Queue()
    workers = [ctx.Process(target=_client, args=(i, url, digit, seconds, ready, out))
               for i in range(n_clients)]
    for w in workers:
        w.start()
    ready.wait(timeout=300)
    start = time.perf_counter()
    results = []
    for _ in workers:
        results += out.get(timeout=seconds + 180)
    elapsed = time.perf_counter() - start
    for w in workers:
        w.join(timeout=30)
    return {"results": results, "seconds": elapsed}


def latencies(client, mix: dict, rounds: int) -> float:
    """Every endpoint's latency against gradio's floors (printed); returns the echo floor."""
    # gradio's floors, each a minimal app on a server of its own, started now (not during
    # the cold start), their calls taking turns with the app's.
    with server(["-c", ECHO_APP]) as (echo, _, _), \
            server(["-c", SKETCH_APP]) as (sketch_client, _, _):
        sketch = mix["classify_digit"][0][0]
        turns = {"echo": lambda: echo.predict("hi", api_name="/echo"),
                 "picture": lambda: sketch_client.predict(sketch, api_name="/sketch")}
        for name, (a, kw) in mix.items():
            turns[name] = lambda a=a, kw=kw, name=name: client.predict(*a, **kw,
                                                                       api_name=f"/{name}")
        for call in turns.values():  # one unmeasured round: connections and caches warm
            call()
        seconds = interleaved(turns, rounds)
        floor = statistics.median(seconds.pop("echo"))
        picture_floor = statistics.median(seconds.pop("picture"))
        print(f"gradio's floor (echo), taking turns with the calls below: median "
              f"{floor * 1000:.0f} ms; for a picture (a Sketchpad endpoint that does nothing, "
              f"upload included): {picture_floor * 1000:.0f} ms = {picture_floor / floor:.2f} x "
              "the echo")
        for name, secs in seconds.items():
            line = f"/{name}: " + summary(secs, floor)
            if name in ("classify_digit", "digit_layers", "digit_saliency"):
                line += f", {statistics.median(secs) / picture_floor:.2f} x the picture floor"
            print(line)
        # Where the floors' time goes, on the client's side: gradio_client makes a new httpx
        # client (with a new TLS context, even for plain http) for its HTTP requests.
        made = {}
        for name in ("echo", "picture", "classify_digit"):
            with counting_http_clients() as count:
                turns[name]()
            made[name] = count[0]
        each = http_client_seconds() * 1000
        print(f"gradio_client makes {made['echo']} httpx clients per echo call, "
              f"{made['picture']} per picture call, {made['classify_digit']} per "
              f"/classify_digit call; each takes {each:.0f} ms to make here (so "
              f"{made['echo'] * each:.0f} ms of the echo's {floor * 1000:.0f}, "
              f"{made['picture'] * each:.0f} ms of the picture's {picture_floor * 1000:.0f})")
    return floor


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=60)
    args = p.parse_args()
    print(f"machine: {machine()}")
    digit = digit_png("/tmp/bench_ship_digit.png")

    # Cold start: the bare import and the app's start take turns, three rounds (one start of
    # each is one sample of a host whose speed drifts; the third start is the server below).
    mix = calls(digit)
    bares, colds = [], []

    def cold_start(client, started) -> float:
        t = time.perf_counter()
        client.predict(*mix["softmax"][0], **mix["softmax"][1], api_name="/softmax")
        return started + time.perf_counter() - t

    for _ in range(2):
        bares.append(import_time(1))
        with server(["app.py"]) as (client, started, _):
            colds.append(cold_start(client, started))
    bares.append(import_time(1))
    with server(["app.py"]) as (client, started, process):
        colds.append(cold_start(client, started))
        bare, cold = statistics.median(bares), statistics.median(colds)
        print(f"bare import gradio, torch, transformers: {', '.join(f'{b:.2f}' for b in bares)} s;"
              f" python app.py -> first answered request: {', '.join(f'{c:.2f}' for c in colds)}"
              f" s; medians {bare:.2f} / {cold:.2f} s = {cold / bare:.2f} x the bare import "
              f"(rounds: {', '.join(f'{c / b:.2f}' for b, c in zip(bares, colds))})")
        for name, (a, kw) in mix.items():
            if name == "softmax":
                continue
            t = time.perf_counter()
            client.predict(*a, **kw, api_name=f"/{name}")
            print(f"  first answer of /{name} on a fresh server: {time.perf_counter() - t:.2f} s")
        first, _ = first_token(client, max_new_tokens=20)
        print(f"  first streamed token of /generate_text on that server: {first:.2f} s")
        client.predict(text="good", api_name="/compare_models")  # loads the second encoder

        floor = latencies(client, mix, args.calls)
        firsts, rates = zip(*(first_token(client, max_new_tokens=200) for _ in range(5)))
        print(f"/generate_text (200 tokens): time to first token {summary(list(firsts), floor)};"
              f" {statistics.median(rates):.0f} tokens/s (median of 5)")
        print(f"peak resident memory of the server, every bundled model loaded and used: "
              f"{peak_rss_mb(process.pid):.0f} MB")

        url = client.src
        load = load_test(url, digit, args.clients, args.seconds)
        results = load["results"]
        failed = [r for r in results if r[2] is not True]
        print(f"load: {args.clients} clients for {args.seconds:.0f} s: {len(results)} requests "
              f"({len(results) / load['seconds']:.1f} per second), {len(failed)} failed")
        for f in failed[:5]:
            print(f"  failed: {f}")
        by_name: dict[str, list[float]] = {}
        for name, seconds, ok in results:
            if ok is True:
                by_name.setdefault(name, []).append(seconds)
        for name, secs in sorted(by_name.items()):
            print(f"  under load /{name}: {summary(secs)}")
        t = time.perf_counter()
        client.predict(*mix["classify_digit"][0], api_name="/classify_digit")
        print(f"after the load, /classify_digit answers in {(time.perf_counter() - t) * 1000:.0f}"
              f" ms; peak resident memory {peak_rss_mb(process.pid):.0f} MB")


if __name__ == "__main__":
    main()
