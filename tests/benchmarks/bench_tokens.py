"""Benchmark: the Tokens & embeddings tab.

    python tests/benchmarks/bench_tokens.py [--calls 20]

Prints, for this machine:
- the memory the embedding matrices add (both, read from the shipped safetensors files and
  normalised) and the pretrained MiniLM adds, each measured in a fresh process;
- every endpoint through the API (gradio_client), median and p95, against gradio's floor in the
  same run (a trivial echo endpoint of a minimal app on a server of its own; the calls take
  turns, so the host's drift falls on all alike; target: at most 1.5 × for /tokenize and
  /nearest_tokens).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ECHO_APP, ENV, ROOT, against_floor, machine, server  # noqa: E402

MEMORY = """
import gc
from models import tokens, registry
registry.tokenizer("sentiment-minilm"); registry.tokenizer("shakespeare-gpt")
import torch, transformers  # imported by the app anyway: not counted

def rss():  # resident now, in MB (what stays, not the peak)
    gc.collect()
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

before = rss()
for m in tokens.MATRICES: tokens.matrix(m); tokens._searchable(m)
middle = rss()
tokens.sentence_embeddings(["warm-up"], "pretrained")
print(middle - before, rss() - middle)
"""
TEXT = "ROMEO. O Romeo, Romeo! wherefore art thou Romeo? 😍 Café déjà vu." * 3
SENTENCES = "\n".join(["The film was a delight from start to finish.",
                       "I hated every minute of that movie.",
                       "The pasta at this restaurant is superb.",
                       "The food was cold and the waiter was rude."] * 2)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--calls", type=int, default=20)
    args = p.parse_args()
    print(f"machine: {machine()}")
    out = subprocess.run([sys.executable, "-c", MEMORY], capture_output=True, text=True,
                         cwd=ROOT, env={**ENV, "OMP_NUM_THREADS": "1"}, check=True)
    matrices, pretrained = (float(x) for x in out.stdout.split()[-2:])
    print(f"memory: both embedding matrices +{matrices:.0f} MB resident; the pretrained MiniLM "
          f"(for the sentence maps) +{pretrained:.0f} MB")

    with server(["app.py"]) as (client, _, _), server(["-c", ECHO_APP]) as (echo, _, _):
        calls = {
            "echo": lambda: echo.predict("hi", api_name="/echo"),
            "tokenize (GPT)": lambda: client.predict(text=TEXT, tokenizer="shakespeare-gpt",
                                                     api_name="/tokenize"),
            "tokenize (MiniLM)": lambda: client.predict(text=TEXT, tokenizer="sentiment-minilm",
                                                        api_name="/tokenize"),
            "bpe_steps": lambda: client.predict(text="ROMEO. O Romeo, Romeo!",
                                                tokenizer="shakespeare-gpt",
                                                api_name="/bpe_steps"),
            "wordpiece_steps": lambda: client.predict(text="Unhappiness, misunderstood",
                                                      tokenizer="sentiment-minilm",
                                                      api_name="/wordpiece_steps"),
            "nearest_tokens (MiniLM)": lambda: client.predict(
                word="king", model="sentiment-minilm", k=10, api_name="/nearest_tokens"),
            "nearest_tokens (GPT)": lambda: client.predict(
                word="king", model="shakespeare-gpt", k=10, api_name="/nearest_tokens"),
            "embedding_map": lambda: client.predict(
                words="king, queen, prince, princess; red, blue, green, yellow",
                model="sentiment-minilm", api_name="/embedding_map"),
            "sentence_map (pretrained)": lambda: client.predict(
                sentences=SENTENCES, model="pretrained", api_name="/sentence_map"),
            "sentence_map (fine-tuned)": lambda: client.predict(
                sentences=SENTENCES, model="fine-tuned", api_name="/sentence_map"),
            "analogy": lambda: client.predict(a="king", b="man", c="woman",
                                              model="sentiment-minilm", api_name="/analogy"),
        }
        for call in calls.values():  # warm-up: loads the tokenizers, matrices and models
            call()
        against_floor(calls, args.calls)


if __name__ == "__main__":
    main()
