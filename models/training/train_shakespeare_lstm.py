"""Train the bundled character-level LSTM on Shakespeare's plays: the recurrent network that the
Recurrent networks tab sets beside the GPT.

    python -m models.training.train_shakespeare_lstm ../shared/datasets/shakespeare/plays

The same play as the GPT's (Julius Caesar) is held out and never trained on; the figure reported
is the loss on it in nats per character, read in one pass from its start, comparable with the
GPT's `final_val_nats_per_char`. The last tenth of the training text is a validation split,
which chooses the checkpoint (the held-out play is measured once, at the end).

Truncated backpropagation through time, as char-rnn trains: the training text is cut into
`batch_size` streams read side by side, `seq_len` characters at a time; the state is carried
from one piece to the next (detached: gradients flow back `seq_len` steps at most).

Writes models/weights/shakespeare-lstm/ (config.json with the vocabulary, model.safetensors,
training_log.json).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter
from pathlib import Path

import torch

from models.recurrent.char_lstm import (
    START,
    UNKNOWN,
    WEIGHTS,
    CharLSTM,
    LSTMConfig,
    from_folder,
    nats_per_char,
)
from models.training.shakespeare_data import read_plays, warmup_cosine


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("plays", help="folder of the plays' .txt files")
    p.add_argument("--val-play", default="julius_caesar_gut.txt")
    p.add_argument("--n-embd", type=int, default=64)
    p.add_argument("--n-hidden", type=int, default=512)
    p.add_argument("--n-layer", type=int, default=2)
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=4000)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--min-count", type=int, default=5, help="rarer characters become unknown")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=WEIGHTS)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    texts, held_out = read_plays(args.plays, args.val_play)
    text = "\n\n".join(texts.values())
    cut = int(len(text) * 0.9)
    train_text, val_text = text[:cut], text[cut:]
    counts = Counter(train_text)
    vocab = UNKNOWN + "".join(sorted(c for c, n in counts.items() if n >= args.min_count))
    print(f"{len(texts)} texts: {len(train_text):,} training and {len(val_text):,} validation "
          f"characters; held out {args.val_play} ({len(held_out):,}); vocabulary {len(vocab)}",
          flush=True)

    config = LSTMConfig(vocab=vocab, n_embd=args.n_embd, n_hidden=args.n_hidden,
                        n_layer=args.n_layer, dropout=args.dropout)
    model = CharLSTM(config)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"LSTM {args.n_layer}×{args.n_hidden}, {n_params / 1e6:.2f}M parameters", flush=True)

    data = torch.tensor(model.encode(START + train_text))
    B, T = args.batch_size, args.seq_len
    per_stream = (len(data) - 1) // B
    streams = data[:B * per_stream + 1]
    x_all = streams[:-1].view(B, per_stream)  # (B, N): stream b is one contiguous stretch
    y_all = streams[1:].view(B, per_stream)
    pieces = per_stream // T
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    warmup = max(1, args.steps // 50)

    def lr_at(step):  # linear warm-up, then cosine decay to a tenth
        return warmup_cosine(step, args.lr, args.steps, warmup)

    log = {"step": [], "train_loss": [], "eval_step": [], "val_nats_per_char": []}
    best, state, running, t0 = math.inf, None, None, time.time()
    model.train()
    for step in range(args.steps):
        piece = step % pieces
        if piece == 0:
            state = None  # a new pass over the streams starts from a blank state
        x = x_all[:, piece * T:(piece + 1) * T]  # (B, T)
        y = y_all[:, piece * T:(piece + 1) * T]
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)  # truncation: no gradient past this piece
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if step % 25 == 0 or step == args.steps - 1:
            log["step"].append(step)
            log["train_loss"].append(round(running, 4))
            print(f"step {step:5d}  loss {running:.3f} nats/char  lr {lr_at(step):.2e}  "
                  f"{(time.time() - t0) / (step + 1):.2f}s/step", flush=True)
        if (step + 1) % args.eval_every == 0 or step == args.steps - 1:
            val = nats_per_char(model, val_text[:128_000], streams=32)
            model.train()
            log["eval_step"].append(step + 1)
            log["val_nats_per_char"].append(round(val, 4))
            print(f"step {step + 1:5d}  validation {val:.4f} nats/char "
                  f"({time.time() - t0:.0f}s elapsed)", flush=True)
            if val < best:
                best = val
                model.save(args.out)

    model = from_folder(args.out)
    final = nats_per_char(model, held_out)
    summary = {"held_out_play": args.val_play, "held_out_nats_per_char": round(final, 4),
               "best_validation_nats_per_char": best, "parameters": n_params,
               "training_chars": len(train_text), "chars_seen": args.steps * B * T,
               "train_seconds": round(time.time() - t0),
               "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
               **log}
    (args.out / "training_log.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"\nHeld-out {args.val_play}: {final:.4f} nats per character; saved to {args.out}")


if __name__ == "__main__":
    main()
