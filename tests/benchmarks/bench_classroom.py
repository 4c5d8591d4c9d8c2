"""Benchmark: a classroom at once, measured with light clients.

    python tests/benchmarks/bench_classroom.py [--seconds 60] [--users 16] [--visitors 40]
        [--only class | play]  (one scenario alone: (c) or (d))

The clients are one asyncio process speaking gradio's REST API (`POST /gradio_api/call/<name>`
with a `session_hash`, then that call's event stream), a few kilobytes of memory and almost no
CPU each: gradio_client spends about 20 ms of CPU per request on TLS contexts, and on two cores
it would measure itself as much as the server. The floor, a minimal gradio app with an echo
endpoint, runs beside the app in the same run. Prints:

(a) 16 users, each with a session of their own, no pause, the usual mix of endpoints: requests,
    failures, p95 of /classify_digit and /classify_sentiment (target < 1 s, 0 failed);
(b) the same 16 users without sessions (as a curl user is, and as every new visitor's first
    request is): /softmax alone against the floor app's echo under the same load (target:
    at least 0.5 × its throughput);
(c) a class: 40 visitors arriving within 10 s, each loading the page (its HTML and config)
    and then making a request every 2 to 4 s for 60 s, every tab's light endpoints in the mix:
    p95 of each (target < 1 s), failures (target: none);
(d) a class pressing Play: 40 visitors, each with a session, starting a /train_network run
    with its defaults within 10 s and watching it for --watch seconds before closing the page,
    while 4 others classify a digit every second: how soon each got its first answer, how many
    began by training and how many by their place in the line (and how many of those were
    trained before they left), failures (target: none), /classify_digit's p95 meanwhile (target
    < 1 s); then, once they have all left, how soon a newcomer's run trains (the slots are free
    again: the closed pages' runs have stopped);
then the server's memory at idle and after 1,000 new sessions (target: at most 200 MB more).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ECHO_APP, ROOT, digit_png, machine, server  # noqa: E402

sys.path.insert(0, str(ROOT))
from models import transfer  # noqa: E402

LIGHT_EXAMPLES = transfer.starter_examples(3, classes=("star", "A"), seed=0).as_json()

SENTENCE = "The food was cold and the service slow, but the view was stunning."
GPT_TEXT = "ROMEO.\nBut soft, what light through yonder window breaks? It is the east."
# The light endpoints of every tab, each with a typical request (keyword arguments; the rest
# come from the endpoint's own defaults, read from /gradio_api/info).
LIGHT = {
    "classify_digit": None,  # a picture: filled in once it is uploaded
    "plot_activations": dict(functions=["sigmoid", "relu"], x_min=-6, x_max=6,
                             show_derivatives=True, alpha=0.1),
    "softmax": dict(logits="2, 1, 0.1", temperature=0.5),
    "descend": dict(surface="valley", start_w1=-3.5, start_w2=0.5, learning_rate=0.4,
                    momentum=0.5, steps=50),
    "backprop_step": dict(dataset="xor", noise=0.05, point=3, batch_size=8, learning_rate=1.0,
                          activation="tanh"),
    "tokenize": dict(text=GPT_TEXT, tokenizer="sentiment-minilm"),
    "nearest_tokens": dict(word="king", model="sentiment-minilm", k=10),
    "next_token_distribution": dict(prompt="ROMEO.\n", temperature=0.8, top_k=40, top_p=0.95),
    "inside_gpt": dict(text=GPT_TEXT, model="shakespeare-gpt", position=0, layer=3, head=2,
                       temperature=1.0),
    "logit_lens": dict(text=GPT_TEXT, model="shakespeare-gpt", split=True),
    "classify_sentiment": dict(text=SENTENCE),
    "attention_map": dict(text=SENTENCE, model="sentiment-minilm", layer=6, head="mean"),
    "float_bits": dict(value="0.1", format="bf16"),
    "quantize_numbers": dict(numbers="0.1, -1.5, 3.2, 0.7", bits=8, scheme="absmax"),
    "unroll": dict(cell="lstm", sequence="Awxy?", hidden=2, seed=0),
    "gradient_through_time": dict(cell="rnn", delay=20, seed=0, init_scale=3.0),
    "score_text": dict(text=GPT_TEXT, model="shakespeare-lstm"),
    "generate_digits": dict(n=16, seed=0, digit=None),
    "walk_digits": dict(seed_a=0, seed_b=1, digit=None),
    # a client teaching a network two symbols from three drawings each (a short run: 10 steps)
    "transfer_learn": dict(examples=LIGHT_EXAMPLES, method="feature_extraction", steps=10,
                           augment=True, seed=0),
    # the Evaluation tab: a matrix, a cell's digits, a threshold, the paired test, and a short
    # overfitting run (100 digits, 10 epochs)
    "digit_confusion": dict(model="mlp"),
    "confusion_examples": dict(model="mlp", true_digit=4, predicted_digit=9),
    "sentiment_threshold": dict(threshold=0.7, model="sentiment-minilm"),
    "significance_test": dict(task="sentiment"),
    "train_overfit": dict(n_train=100, epochs=10, seed=0),
}
USUAL = ["classify_digit", "plot_activations", "softmax", "next_token_distribution",
         "classify_sentiment", "attention_map", "descend", "backprop_step"]


class Api:
    """gradio's REST API over one httpx.AsyncClient (one connection pool for every user)."""

    def __init__(self, client, url: str):
        self.client, self.url = client, url.rstrip("/")
        self.params: dict[str, list] = {}

    async def load_info(self):
        info = (await self.client.get(f"{self.url}/gradio_api/info")).json()
        self.params = {name.lstrip("/"): e["parameters"]
                       for name, e in info["named_endpoints"].items()}

    def data(self, name: str, kwargs: dict) -> list:
        out = []
        for p in self.params[name]:
            key = p["parameter_name"]
            if key in kwargs:
                out.append(kwargs[key])
            elif p.get("parameter_has_default"):
                out.append(p.get("parameter_default"))
            else:
                raise KeyError(f"/{name} needs {key}")
        return out

    async def call(self, name: str, data: list, session: str | None) -> float:
        """Seconds from the POST to the end of the event stream; raises on an error."""
        body = {"data": data, **({"session_hash": session} if session else {})}
        t = time.perf_counter()
        r = await self.client.post(f"{self.url}/gradio_api/call/{name}", json=body)
        r.raise_for_status()
        event_id = r.json()["event_id"]
        async with self.client.stream("GET", f"{self.url}/gradio_api/call/{name}/{event_id}"
                                      ) as stream:
            event = None
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    if event == "error":
                        raise RuntimeError(f"/{name}: {line[5:].strip()[:200]}")
                    return time.perf_counter() - t
        raise RuntimeError(f"/{name}: the stream ended without an answer")

    async def watch(self, name: str, data: list, session: str, seconds: float) -> list:
        """Stream a generator endpoint for up to `seconds`, then hang up (a page closed).
        Returns [(seconds since the POST, event, data), ...]; raises on an error."""
        body = {"data": data, "session_hash": session}
        t = time.perf_counter()
        r = await self.client.post(f"{self.url}/gradio_api/call/{name}", json=body)
        r.raise_for_status()
        event_id, seen = r.json()["event_id"], []
        try:
            async with asyncio.timeout(seconds):
                async with self.client.stream(
                        "GET", f"{self.url}/gradio_api/call/{name}/{event_id}") as stream:
                    event = None
                    async for line in stream.aiter_lines():
                        if line.startswith("event:"):
                            event = line.split(":", 1)[1].strip()
                        elif line.startswith("data:") and event in ("generating", "complete",
                                                                    "error"):
                            if event == "error":
                                raise RuntimeError(f"/{name}: {line[5:].strip()[:200]}")
                            seen.append((time.perf_counter() - t, event, line[5:]))
                            if event == "complete":
                                return seen
        except TimeoutError:
            pass
        return seen

    async def upload(self, path: str) -> dict:
        with open(path, "rb") as f:
            r = await self.client.post(f"{self.url}/gradio_api/upload",
                                       files={"files": (Path(path).name, f, "image/png")})
        return {"path": r.json()[0], "meta": {"_type": "gradio.FileData"}}

    async def page(self) -> float:
        """What a browser fetches first: the page, and its config."""
        t = time.perf_counter()
        for path in ("/", "/config"):
            (await self.client.get(self.url + path)).raise_for_status()
        return time.perf_counter() - t


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))] if s else float("nan")


def report(title: str, results: list, seconds: float):
    ok = [r for r in results if r[2] is None]
    failed = [r for r in results if r[2] is not None]
    print(f"{title}: {len(results)} requests in {seconds:.0f} s ({len(ok) / seconds:.1f} "
          f"answered a second), {len(failed)} failed")
    for f in failed[:3]:
        print(f"  failed: /{f[0]}: {f[2]}")
    by: dict[str, list[float]] = {}
    for name, s, _ in ok:
        by.setdefault(name, []).append(s)
    for name, secs in sorted(by.items()):
        print(f"  /{name}: median {statistics.median(secs) * 1000:.0f} ms, p95 "
              f"{p95(secs) * 1000:.0f} ms ({len(secs)})")


async def loop_user(api: Api, names, requests: dict, seconds: float, session: bool, rng,
                    pause=None, out=None):
    """One user: a request after another (after a pause, if given) until the time is up."""
    hash_ = uuid.uuid4().hex[:11] if session else None
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if pause:
            await asyncio.sleep(rng.uniform(*pause))
        name = rng.choice(names)
        try:
            out.append((name, await api.call(name, requests[name], hash_), None))
        except Exception as e:  # a failed request is what we count
            out.append((name, 0.0, repr(e)[:200]))


async def scenario_users(api: Api, requests, names, users: int, seconds: float, session: bool):
    out: list = []
    start = time.perf_counter()
    await asyncio.gather(*(loop_user(api, names, requests, seconds, session, random.Random(i),
                                     out=out) for i in range(users)))
    return out, time.perf_counter() - start


async def throughput(api: Api, name: str, data: list, users: int, seconds: float) -> tuple:
    """(answers a second, median seconds) of one endpoint, no sessions, `users` at once."""
    out, took = await scenario_users(api, {name: data}, [name], users, seconds, False)
    ok = [s for _, s, err in out if err is None]
    return len(ok) / took, statistics.median(ok) if ok else float("nan"), len(out) - len(ok)


async def scenario_class(api: Api, requests, visitors: int, arrive: float, seconds: float):
    out: list = []
    pages: list[float] = []

    async def visitor(i):
        rng = random.Random(100 + i)
        await asyncio.sleep(rng.uniform(0, arrive))
        try:
            pages.append(await api.page())
        except Exception as e:
            out.append(("page", 0.0, repr(e)[:200]))
            return
        await loop_user(api, list(LIGHT), requests, seconds, True, rng, pause=(2, 4), out=out)

    start = time.perf_counter()
    await asyncio.gather(*(visitor(i) for i in range(visitors)))
    return out, pages, time.perf_counter() - start


WAITING = re.compile(r"Waiting for a free trainer \((you are next|(\d+) ahead of you)\)")


def place(data: str) -> int:
    """0 if this frame of /train_network is training, else its place in line (1 is next)."""
    m = WAITING.search(data)
    return 0 if m is None else 1 if m.group(2) is None else int(m.group(2)) + 1


async def scenario_play(api: Api, requests, visitors: int, arrive: float, watch: float):
    play = api.data("train_network", {})
    digits: list = []
    watched: list = []
    done = asyncio.Event()

    async def visitor(i):
        await asyncio.sleep(random.Random(200 + i).uniform(0, arrive))
        try:
            watched.append((await api.watch("train_network", play, uuid.uuid4().hex[:11],
                                            watch), None))
        except Exception as e:
            watched.append(([], repr(e)[:200]))

    async def classifier(i):
        hash_ = uuid.uuid4().hex[:11]
        while not done.is_set():
            try:
                digits.append(("classify_digit",
                               await api.call("classify_digit", requests["classify_digit"],
                                              hash_), None))
            except Exception as e:
                digits.append(("classify_digit", 0.0, repr(e)[:200]))
            await asyncio.sleep(1)

    start = time.perf_counter()
    classifiers = [asyncio.create_task(classifier(i)) for i in range(4)]
    await asyncio.gather(*(visitor(i) for i in range(visitors)))
    took = time.perf_counter() - start
    done.set()
    await asyncio.gather(*classifiers)
    await asyncio.sleep(2)  # the last pages closed: their streams end at their next frame
    newcomer = await api.watch("train_network", play, uuid.uuid4().hex[:11], 15)
    return watched, digits, newcomer, took


def report_play(visitors: int, watch: float, watched, digits, newcomer, took):
    failed = [err for _, err in watched if err is not None]
    firsts = [seen[0] for seen, err in watched if err is None and seen]
    silent = sum(1 for seen, err in watched if err is None and not seen)
    trained_first = sum(1 for _, _, data in firsts if place(data) == 0)
    waited = [seen for seen, err in watched if err is None and seen and place(seen[0][2])]
    trained_later = sum(1 for seen in waited if any(place(d) == 0 for _, _, d in seen))
    places = [place(seen[0][2]) for seen in waited]
    print(f"(d) a class pressing Play: {visitors} visitors starting /train_network within 10 s, "
          f"each watching for {watch:.0f} s ({took:.0f} s in all)")
    print(f"    first answer: median {statistics.median(s for s, _, _ in firsts) * 1000:.0f} ms,"
          f" slowest {max(s for s, _, _ in firsts) * 1000:.0f} ms; {trained_first} began by "
          f"training, {len(waited)} by their place in line (the farthest {max(places, default=0)}"
          f"), {trained_later} of these trained before they left; {silent} got nothing, "
          f"{len(failed)} failed")
    for f in failed[:3]:
        print(f"  failed: {f}")
    report("    meanwhile, 4 users classifying a digit every second", digits, took)
    first = next((s for s, _, d in newcomer if place(d) == 0), None)
    print("    after they left, a newcomer's run " + (
        f"trained from {first * 1000:.0f} ms" if first is not None else
        f"did not train within 15 s ({len(newcomer)} frames, all in line)"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def sessions_memory(api: Api, pid: int, data: list, n: int) -> tuple[float, float]:
    before = rss_mb(pid)
    sem = asyncio.Semaphore(16)

    async def one():
        async with sem:
            await api.call("softmax", data, uuid.uuid4().hex[:11])

    await asyncio.gather(*(one() for _ in range(n)))
    await asyncio.sleep(1)
    return before, rss_mb(pid)


async def run(args, url: str, echo_url: str, pid: int, digit: str):
    import httpx

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        api, echo = Api(client, url), Api(client, echo_url)
        await api.load_info()
        await echo.load_info()
        picture = await api.upload(digit)
        requests = {name: api.data(name, kwargs) for name, kwargs in LIGHT.items()
                    if kwargs is not None}
        sketch = api.params["classify_digit"][0]["parameter_name"]  # its one input
        requests["classify_digit"] = api.data("classify_digit", {
            sketch: {"background": picture, "layers": [], "composite": None}})
        for name, data in requests.items():  # warm-up: every model loaded once
            await api.call(name, data, "warmup")
        idle = rss_mb(pid)

        if args.only is None:
            out, took = await scenario_users(api, requests, USUAL, args.users, args.seconds,
                                             True)
            report(f"(a) {args.users} users with sessions, no pause, the usual mix", out, took)

            rate, median, failed = await throughput(api, "softmax", requests["softmax"],
                                                    args.users, args.seconds / 2)
            floor_rate, floor_median, floor_failed = await throughput(
                echo, "echo", ["hi"], args.users, args.seconds / 2)
            print(f"(b) {args.users} users without sessions: /softmax {rate:.1f} answers a "
                  f"second (median {median * 1000:.0f} ms, {failed} failed); the floor app's "
                  f"echo {floor_rate:.1f} a second (median {floor_median * 1000:.0f} ms, "
                  f"{floor_failed} failed): {rate / floor_rate:.2f} × the floor")

        if args.only in (None, "class"):
            out, pages, took = await scenario_class(api, requests, args.visitors, 10,
                                                    args.seconds)
            print(f"(c) a class: {args.visitors} visitors arriving within 10 s, each loading "
                  f"the page (median {statistics.median(pages) * 1000:.0f} ms, p95 "
                  f"{p95(pages) * 1000:.0f} ms) then a request every 2-4 s for "
                  f"{args.seconds:.0f} s")
            report("   ", out, took)

        if args.only in (None, "play"):
            watched, digits, newcomer, took = await scenario_play(api, requests, args.visitors,
                                                                  10, args.watch)
            report_play(args.visitors, args.watch, watched, digits, newcomer, took)

        if args.only is None:
            before, after = await sessions_memory(api, pid, requests["softmax"], 1000)
            print(f"memory: idle after warm-up {idle:.0f} MB; before 1,000 new sessions "
                  f"{before:.0f} MB, after {after:.0f} MB: +{after - before:.0f} MB")


SESSION_COST = """
import os, sys, time
sys.path.insert(0, os.getcwd())
import app
from demos import gradio_internals
demo = app.build_app()
for name, make in (("gradio's SessionState", gradio_internals.GRADIO_SESSION_STATE),
                   ("the lean SessionState", gradio_internals.LeanSessionState)):
    make(demo)
    t = time.perf_counter()
    for _ in range(20):
        make(demo)
    print(f"{name}: {(time.perf_counter() - t) / 20 * 1000:.3f} ms a new session "
          f"({len(demo.blocks)} blocks)")
"""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--users", type=int, default=16)
    p.add_argument("--visitors", type=int, default=40)
    p.add_argument("--watch", type=float, default=20)
    p.add_argument("--only", choices=["play", "class"],
                   help="only (d), the class pressing Play, or only (c), the class")
    args = p.parse_args()
    print(f"machine: {machine()}")
    import subprocess

    from common import ENV

    if args.only is None:
        print(subprocess.run([sys.executable, "-c", SESSION_COST], capture_output=True,
                             text=True, cwd=ROOT, env=ENV, check=True).stdout.strip())
    digit = digit_png("/tmp/bench_classroom_digit.png")
    with server(["app.py"]) as (client, _, process), server(["-c", ECHO_APP]) as (echo, _, _):
        asyncio.run(run(args, client.src, echo.src, process.pid, digit))


if __name__ == "__main__":
    main()
