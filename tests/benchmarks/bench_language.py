"""Benchmark: the Sentiment and Attention tabs.

    python tests/benchmarks/bench_language.py [--calls 20]

Prints, for this machine:
- gradio's floor in the same run (a trivial echo endpoint of a minimal app);
- the fine-tuned sentiment model's load time and the resident memory it adds (a fresh process);
- /classify_sentiment and /explain_sentiment for a 30-word sentence: in-process and through the
  API (median and 95th percentile);
- /attention_map for 32, 128 and 256 tokens through the API (one request returns the chosen
  head's heatmap and the overview of all heads), the time to build each figure alone, and the
  size of what the browser receives for 256 tokens.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ENV, ROOT, echo_floor, machine, server, summary, timed  # noqa: E402

SENTENCE = ("The food was cold and the service painfully slow, but the view from the terrace "
            "was stunning and the staff apologised so kindly that we left happy after all, "
            "honestly.")  # 30 words
LOAD = """
import resource, time
t = time.perf_counter()
from models import sentiment
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sentiment.classify(["warm-up"])
print(time.perf_counter() - t, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""


def median_ms(call, n: int = 5) -> float:
    return statistics.median(timed(call, n)) * 1000


def text_of(n_tokens: int) -> str:
    from models import attention

    words = ("the quick brown fox jumps over the lazy dog and then it sleeps " * 40).split()
    lo, hi = 1, len(words)
    while lo < hi:  # the fewest words that make n_tokens for the default encoder
        mid = (lo + hi) // 2
        if len(attention.attentions("sentiment-minilm", " ".join(words[:mid]))["tokens"]) \
                >= n_tokens:
            hi = mid
        else:
            lo = mid + 1
    return " ".join(words[:lo])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=20)
    args = p.parse_args()
    import torch

    torch.set_num_threads(2)
    print(f"machine: {machine()}")
    assert len(SENTENCE.split()) == 30
    out = subprocess.run([sys.executable, "-c", LOAD], capture_output=True, text=True, cwd=ROOT,
                         env=ENV, check=True).stdout.split()
    print(f"sentiment-minilm: import + load + first answer {float(out[0]):.2f} s, "
          f"+{float(out[1]):.0f} MB resident")

    from demos import attention as tab
    from models import attention, sentiment

    sentiment.classify([SENTENCE])
    print("in-process classify, 30 words: " + summary(timed(
        lambda: sentiment.classify([SENTENCE]), args.calls)))
    print("in-process occlusion, 30 words (+ punctuation): " + summary(timed(
        lambda: sentiment.attributions(SENTENCE), args.calls)))
    texts = {n: text_of(n) for n in (32, 128, 256)}
    for n, text in texts.items():
        result = attention.attentions("sentiment-minilm", text)
        w, _ = attention.select(result, 6, 1)
        forward = median_ms(partial(attention.attentions, "sentiment-minilm", text))
        heat = median_ms(partial(tab.attention_heatmap, result["tokens"], w))
        over = median_ms(lambda r=result: tab.overview_figure(attention.overview(r["weights"])))
        print(f"in-process, {n} tokens: forward pass + weights {forward:.0f} ms, "
              f"heatmap figure {heat:.0f} ms, overview figure {over:.0f} ms")

    floor = echo_floor(args.calls)
    print(f"gradio's floor (trivial echo endpoint): median {floor * 1000:.0f} ms")
    with server(["app.py"]) as (client, _, _):
        client.predict(text=SENTENCE, api_name="/classify_sentiment")
        print("/classify_sentiment, 30 words: " + summary(timed(
            lambda: client.predict(text=SENTENCE, api_name="/classify_sentiment"), args.calls),
            floor))
        print("/explain_sentiment, 30 words: " + summary(timed(
            lambda: client.predict(text=SENTENCE, api_name="/explain_sentiment"), args.calls),
            floor))
        for n, text in texts.items():
            for head in ("1", "mean"):
                call = partial(client.predict, text=text, model="sentiment-minilm", layer=6,
                               head=head, api_name="/attention_map")
                call()
                print(f"/attention_map, {n} tokens, head {head} (+ the overview): "
                      + summary(timed(call, max(5, args.calls // 2)), floor))
        heat, grid = client.predict(text=texts[256], model="sentiment-minilm", layer=6, head="1",
                                    api_name="/attention_map")[:2]
        print(f"figure sizes for 256 tokens: heatmap {len(json.dumps(heat)) / 1024:.0f} KB, "
              f"overview {len(json.dumps(grid)) / 1024:.0f} KB (JSON as sent)")


if __name__ == "__main__":
    main()
