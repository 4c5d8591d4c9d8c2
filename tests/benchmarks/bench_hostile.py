"""Benchmark: what a hostile visitor can do, measured. The server's memory growth and the time of
every call of the bad-input catalogue, and the cases found by trying the app as an attacker.

    python tests/benchmarks/bench_hostile.py [--quick]

The app runs as its own process on loopback (as `python app.py`); its peak memory during each
call is read from the kernel (/proc/PID/status VmHWM, reset before each call through
/proc/PID/clear_refs), against its memory just before. Each endpoint is first called once with
a normal request, so that a model loaded on first use does not count as growth. Prints a line
for each hostile case, then each endpoint's slowest call and largest growth over the whole
catalogue (tests/slow/test_robustness.py's values: odd and enormous text, wrong numbers, model keys
that are not allowed, every kind of picture; skipped with --quick), against its documented cap
(CAPS, the README's table), and the targets:

- no call grows the server's memory by more than 200 MB;
- no call runs past its endpoint's cap;
- the 12,000 x 12,000 picture is refused within 1 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "slow"))

import test_robustness as catalogue  # noqa: E402
from common import digit_png, machine, server  # noqa: E402

GROWTH_TARGET_MB = 200
# Each endpoint's documented worst case, in seconds (the README's table). The live trainers stop
# themselves after their MAX_SECONDS (60) and generation after its 30; the rest are bounded by
# what they read (text cut at 20,000 characters and a few hundred tokens, pictures at 4 million
# pixels, 500 dream steps, 40 explained words).
LIGHT_CAP = 3.0
CAPS = {"train_network": 62, "train_transformer": 62, "generate_text": 32, "dream_digit": 15,
        "explain_sentiment": 5, "compare_models": 8, "compare_sentences": 10,
        "quantize_model": 10, "ptq_vs_qat": 10, "sentence_map": 5, "inside_gpt": 5,
        "knock_out": 5, "logit_lens": 5, "component_server x1000": 20}
MARKUP = '<a href="//evil.example">Log in again</a><form action="//e.x"><input name="pw"></form>'
LONG_TEXT = " ".join(["The acting was wonderful but the plot was a dull and tired mess"] * 2000)
GIBBERISH = " ".join("".join(chr(97 + (i * 7 + j * 13) % 26) for j in range(60))
                     for i in range(400))  # long made-up words: the most tokens per word


class Server:
    """The app's process, its client, and its memory."""

    def __init__(self, client, process, url):
        self.client, self.pid, self.url = client, process.pid, url
        self.rows: list[dict] = []

    def status(self, field: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        raise KeyError(field)

    def measure(self, name: str, endpoint: str, call) -> dict:
        """Run `call()`; record its seconds, the server's peak growth (MB) and its answer."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
        before = self.status("VmRSS")
        t0 = time.perf_counter()
        try:
            answer, refused = call(), False
        except Exception as e:  # a refusal: gradio's AppError, or an HTTP status
            answer, refused = str(e), True
        seconds = time.perf_counter() - t0
        row = {"name": name, "endpoint": endpoint, "seconds": seconds,
               "growth": self.status("VmHWM") - before, "refused": refused,
               "answer": answer if isinstance(answer, str) else json.dumps(answer,
                                                                           default=str)}
        self.rows.append(row)
        return row

    def predict(self, endpoint: str, *args, **kwargs):
        return self.client.predict(*args, **kwargs, api_name=f"/{endpoint}")


def picture(path: Path, size: int, kind: str = "empty") -> str:
    """A size x size RGBA PNG: transparent ("empty": a few hundred KB even at 12,000 x 12,000),
    "noise" (the least compressible), or "strokes" (a drawing: thick random lines)."""
    if kind == "noise":
        pixels = np.random.default_rng(0).integers(0, 256, (size, size, 4), dtype=np.uint8)
        image = Image.fromarray(pixels, "RGBA")
    else:
        image = Image.new("RGBA", (size, size))
        if kind == "strokes":
            from PIL import ImageDraw

            draw, rng = ImageDraw.Draw(image), np.random.default_rng(0)
            for _ in range(40):
                draw.line([tuple(rng.integers(0, size, 2)) for _ in range(2)],
                          fill=(0, 0, 0, 255), width=max(2, size // 60))
    image.save(path)
    return str(path)


def sketch(background=None, layers=(), composite=None) -> dict:
    from gradio_client import handle_file

    def f(p):
        return handle_file(p) if p else None
    return {"background": f(background), "layers": [f(p) for p in layers],
            "composite": f(composite)}


def hostile(s: Server, tmp: Path, digit: str) -> None:
    import httpx

    huge = picture(tmp / "huge-12000.png", 12_000)
    big = picture(tmp / "big-6000.png", 6_000)
    noise = picture(tmp / "noise-2000.png", 2_000, "noise")
    allowed = picture(tmp / "strokes-2000.png", 2_000, "strokes")
    print(f"pictures: 12,000 x 12,000 transparent {Path(huge).stat().st_size / 1e3:.0f} KB, "
          f"6,000 x 6,000 {Path(big).stat().st_size / 1e3:.0f} KB, 2,000 x 2,000 noise "
          f"{Path(noise).stat().st_size / 1e6:.1f} MB, 2,000 x 2,000 strokes "
          f"{Path(allowed).stat().st_size / 1e3:.0f} KB")
    cases = [
        ("12,000² picture as background", "classify_digit", [sketch(huge)]),
        ("12,000² picture as a layer", "classify_digit", [sketch(layers=[huge])]),
        ("12,000² picture as composite", "classify_digit", [sketch(composite=huge)]),
        ("12,000² picture", "digit_layers", [sketch(huge)]),
        ("12,000² picture", "digit_saliency", [sketch(huge)]),
        ("12,000² picture", "digit_pixel", [sketch(huge), 1, 14, 14]),
        ("6,000² picture as 4 layers", "classify_digit", [sketch(layers=[big] * 4)]),
        ("6,000² picture as background", "classify_digit", [sketch(big)]),
        ("20 layers of a drawing", "classify_digit", [sketch(layers=[digit] * 20)]),
        ("2,000² noise (16 MB: over the upload limit)", "classify_digit", [sketch(noise)]),
        ("2,000² strokes in all 5 parts (the largest allowed)", "classify_digit",
         [sketch(allowed, [allowed] * 3, allowed)]),
        ("2,000² strokes in all 5 parts", "digit_layers", [sketch(allowed, [allowed] * 3,
                                                                 allowed)]),
        ("2,000² strokes in all 5 parts", "digit_saliency", [sketch(allowed, [allowed] * 3,
                                                                   allowed)]),
    ]
    for name, endpoint, args in cases:
        row = s.measure(name, endpoint, lambda e=endpoint, a=args: s.predict(e, *a))
        show(row)

    for model in ("sentiment-minilm", "sentiment-encoder"):
        for endpoint in ("classify_sentiment", "explain_sentiment"):
            show(s.measure(f"20,000 characters, {model}", endpoint,
                           lambda e=endpoint, m=model: s.predict(e, text=LONG_TEXT, model=m)))
        show(s.measure(f"40 made-up words of 60 letters, {model}", "explain_sentiment",
                       lambda m=model: s.predict("explain_sentiment", text=GIBBERISH, model=m)))
        show(s.measure(f"two texts of 20,000 characters, {model}", "compare_sentences",
                       lambda m=model: s.predict("compare_sentences", text_a=LONG_TEXT,
                                                 text_b=GIBBERISH, model=m)))
        for endpoint in ("attention_map", "attention_csv"):
            show(s.measure(f"20,000 characters, {model}", endpoint,
                           lambda e=endpoint, m=model: s.predict(
                               e, **{**catalogue.NORMAL[f"/{e}"], "text": LONG_TEXT,
                                     "model": m})))
    show(s.measure("20,000 characters, both models", "compare_models",
                   lambda: s.predict("compare_models", text=LONG_TEXT)))
    show(s.measure("made-up words, both models", "compare_models",
                   lambda: s.predict("compare_models", text=GIBBERISH)))
    for endpoint in ("attention_pair", "inside_gpt", "logit_lens", "knock_out", "tokenize",
                     "bpe_steps", "wordpiece_steps", "next_token_distribution", "step_token"):
        field = "prompt" if endpoint in ("next_token_distribution", "step_token") else "text"
        show(s.measure("20,000 characters", endpoint, lambda e=endpoint, f=field: s.predict(
            e, **{**catalogue.NORMAL[f"/{e}"], f: LONG_TEXT})))
    show(s.measure("20,000 characters, 400 new tokens", "generate_text", lambda: s.predict(
        "generate_text", **{**catalogue.NORMAL["/generate_text"], "prompt": LONG_TEXT,
                            "max_new_tokens": 400})))
    show(s.measure("30 sentences of 600 characters", "sentence_map", lambda: s.predict(
        "sentence_map", sentences="\n".join([LONG_TEXT[:600]] * 30), model="pretrained")))
    show(s.measure("60 words", "embedding_map", lambda: s.predict(
        "embedding_map", words=", ".join(LONG_TEXT.split()[:60]), model="sentiment-minilm")))
    show(s.measure("500 steps", "dream_digit", lambda: s.predict(
        "dream_digit", digit=8, steps=500, seed=1)))

    markup_cases = [(api, field) for api, field in catalogue.TEXT_FIELDS]
    for api, field in markup_cases:
        row = s.measure(f"markup in {field}", api.lstrip("/"), lambda a=api, f=field: s.predict(
            a.lstrip("/"), **{**catalogue.NORMAL[a], f: MARKUP}))
        row["markup"] = "<a " in row["answer"] or "<form" in row["answer"]
    shown = [r for r in s.rows if "markup" in r]
    print(f"markup in {len(shown)} text fields: refused {sum(r['refused'] for r in shown)}, "
          f"answered {sum(not r['refused'] for r in shown)}, messages quoting it unescaped: "
          f"{sum(r['markup'] and r['refused'] for r in shown)}; slowest "
          f"{max(r['seconds'] for r in shown):.2f} s, largest growth "
          f"{max(r['growth'] for r in shown):.0f} MB")

    with httpx.Client(timeout=60) as http:
        for name, upload in (("a 30 MB evil.exe", ("evil.exe", b"MZ" + b"\0" * 30_000_000)),
                             ("a 16 MB picture", ("big.png", Path(noise).read_bytes()))):
            show(s.measure(f"upload of {name}", "upload", lambda u=upload: status(http.post(
                f"{s.url}/gradio_api/upload", files={"files": u}))))
        body = b'{"data": ["' + b"1, " * 20_000_000 + b'", 1]}'
        show(s.measure("a 60 MB JSON call", "call", lambda: status(http.post(
            f"{s.url}/gradio_api/call/softmax", content=body,
            headers={"content-type": "application/json"}))))
        show(s.measure("a drawing's layer at index 10^9", "component_server",
                       lambda: status(catalogue.accept_blob(http, s.url, str(10**9), "x",
                                                            b"\x89PNG\r\n\x1a\n"))))
        show(s.measure("1,000 drawings never read (1,000 requests)", "component_server x1000",
                       lambda: [status(catalogue.accept_blob(http, s.url, "0", f"x{i}",
                                                             Path(digit).read_bytes()))
                                for i in range(1000)][-1]))


def status(response) -> str:
    if response.status_code >= 400:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:120]}")
    return f"HTTP {response.status_code}"


def show(row: dict) -> None:
    answer = row["answer"].replace("\n", " ")[:110]
    print(f"  /{row['endpoint']}, {row['name']}: {row['seconds']:.2f} s, "
          f"+{row['growth']:.0f} MB, {'refused' if row['refused'] else 'answered'}: {answer}")


def run_catalogue(s: Server, tmp: Path, digit: str) -> None:
    """Every call of tests/slow/test_robustness.py's catalogue, timed and measured."""
    from gradio_client import handle_file

    calls = []
    for api, field in catalogue.TEXT_FIELDS:
        for value in catalogue.STRINGS + [None, 42, ["a", "list"], {"a": "dict"}]:
            calls.append((api, {**catalogue.NORMAL[api], field: value}, None))
    for api, field in catalogue.NUMBER_FIELDS:
        for value in catalogue.NUMBERS:
            if (api, field) == ("/train_transformer", "steps") and value is None:
                continue
            calls.append((api, {**catalogue.NORMAL[api], field: value}, None))
    for api in ("/generate_text", "/next_token_distribution", "/classify_sentiment",
                "/attention_map", "/inside_gpt", "/logit_lens", "/knock_out"):
        for value in ["gpt2-xl", "../../etc/passwd", "https://example.com/model.bin", "", 3]:
            calls.append((api, {**catalogue.NORMAL[api], "model": value}, None))
    for path in catalogue.images(tmp).values():
        for value in (catalogue.sketch(path),
                      {"background": None, "layers": [handle_file(path)], "composite": None}):
            calls.append(("/classify_digit", None, [value]))
    print(f"the catalogue: {len(calls)} calls")
    for i, (api, kwargs, args) in enumerate(calls):
        s.measure(f"catalogue {i}", api.lstrip("/"), lambda a=api, k=kwargs, g=args: s.predict(
            a.lstrip("/"), *(g or []), **(k or {})))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the hostile cases only")
    args = p.parse_args()
    print(f"machine: {machine()}")
    tmp = Path("/tmp/np-bench-hostile")
    tmp.mkdir(exist_ok=True)
    digit = digit_png(str(tmp / "digit.png"))
    with server(["app.py"]) as (client, _, process):
        s = Server(client, process, client.src.rstrip("/"))
        print("warming up: every endpoint once, normally")
        for api, kwargs in catalogue.NORMAL.items():
            if api == "/classify_digit":
                s.predict("classify_digit", catalogue.sketch(digit))
            else:
                s.predict(api.lstrip("/"), **kwargs)
        s.predict("classify_sentiment", text="fine", model="sentiment-encoder")
        s.predict("compare_models", text="fine")
        s.predict("digit_pixel", catalogue.sketch(digit), 1, 14, 14)
        s.predict("digit_layers", catalogue.sketch(digit))
        s.predict("digit_saliency", catalogue.sketch(digit))
        print(f"server at rest: {s.status('VmRSS'):.0f} MB")
        print("hostile cases:")
        hostile(s, tmp, digit)
        if not args.quick:
            run_catalogue(s, tmp, digit)
        print(f"server after: {s.status('VmRSS'):.0f} MB")
        alive = s.predict("softmax", logits="1, 2", temperature=1)
        print(f"still answering: {alive is not None}")

    print("each endpoint, over every call above (slowest, largest growth, cap):")
    by_endpoint: dict[str, list[dict]] = {}
    for row in s.rows:
        by_endpoint.setdefault(row["endpoint"], []).append(row)
    over = []
    for endpoint, rows in sorted(by_endpoint.items()):
        slowest = max(rows, key=lambda r: r["seconds"])
        cap = CAPS.get(endpoint, LIGHT_CAP)
        if slowest["seconds"] > cap:
            over.append(endpoint)
        print(f"  /{endpoint}: {len(rows)} calls, slowest {slowest['seconds']:.2f} s "
              f"(cap {cap:g} s), largest growth {max(r['growth'] for r in rows):.0f} MB")
    worst = max(s.rows, key=lambda r: r["growth"])
    huge = next(r for r in s.rows if r["name"] == "12,000² picture as background")
    quick = huge["refused"] and huge["seconds"] < 1
    escaped = not any(r.get("markup") and r["refused"] for r in s.rows)
    print(f"targets: largest growth {worst['growth']:.0f} MB (/{worst['endpoint']}, "
          f"{worst['name']}; target <= {GROWTH_TARGET_MB}): "
          f"{'met' if worst['growth'] <= GROWTH_TARGET_MB else 'MISSED'}; "
          f"calls past their cap: {', '.join(over) or 'none'}; the 12,000² picture refused in "
          f"{huge['seconds']:.2f} s ({'met' if quick else 'MISSED'}); "
          f"messages quoting markup unescaped: {'none' if escaped else 'SOME'}")


if __name__ == "__main__":
    main()
