"""Train the bundled Shakespeare GPT from scratch: a byte-level BPE tokenizer and a small GPT-2.

    python -m models.training.train_shakespeare ../shared/datasets/shakespeare/plays

One whole play (Julius Caesar by default) is held out and never trained on. The figure we report
is its validation loss in nats per character: the summed loss over the play's tokens divided by
its characters, which compares with character-level models (nanoGPT's small CPU character model
reaches about 1.88 on its own Shakespeare split).

Writes a save_pretrained folder (config, safetensors weights, tokenizer) to
models/weights/shakespeare-gpt/, with training_log.json beside them.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

from models.training.shakespeare_data import read_plays, warmup_cosine

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "models" / "weights" / "shakespeare-gpt"
EOS = "<|endoftext|>"


def train_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE, as GPT-2's: any text can be encoded, and decoding gives it back exactly."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS,
                                   pad_token=EOS, model_max_length=None)


@torch.no_grad()
def nats_per_char(model, ids: list[int], n_chars: int, block: int, stride: int) -> float:
    """Summed next-token loss over a whole text, divided by its characters.

    Windows of `block` tokens slide by `stride`; each token is scored once, with at least
    block - stride tokens of context (except at the start), as in the usual perplexity recipe.
    """
    model.eval()
    total, scored = 0.0, 0
    ids = torch.tensor(ids)
    for start in range(0, len(ids) - 1, stride):
        end = min(start + block, len(ids) - 1)
        x = ids[start:end][None]  # (1, T)
        y = ids[start + 1:end + 1][None]
        logits = model(x).logits  # (1, T, vocab)
        losses = torch.nn.functional.cross_entropy(logits[0], y[0], reduction="none")  # (T,)
        new = losses[scored - start:]  # only the tokens no earlier window scored
        total += new.sum().item()
        scored = end
        if end == len(ids) - 1:
            break
    model.train()
    return total / n_chars


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("plays", help="folder of the plays' .txt files")
    p.add_argument("--val-play", default="julius_caesar_gut.txt")
    p.add_argument("--vocab-size", type=int, default=4096)
    p.add_argument("--n-layer", type=int, default=6)
    p.add_argument("--n-head", type=int, default=8)
    p.add_argument("--n-embd", type=int, default=256)
    p.add_argument("--block-size", type=int, default=256)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--lr", type=float, default=1.5e-3)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)

    texts, val_text = read_plays(args.plays, args.val_play)
    print(f"{len(texts)} texts for training ({sum(map(len, texts.values())):,} chars), "
          f"held out {args.val_play} ({len(val_text):,} chars)", flush=True)

    tokenizer = train_tokenizer(list(texts.values()), args.vocab_size)
    eos = tokenizer.eos_token_id
    train_ids = []
    for text in texts.values():
        train_ids += [eos] + tokenizer.encode(text)
    val_ids = [eos] + tokenizer.encode(val_text)
    assert tokenizer.decode(val_ids[1:]) == val_text, "the tokenizer must round-trip exactly"
    print(f"{len(train_ids):,} training tokens, {len(val_ids):,} validation tokens "
          f"({len(val_text) / (len(val_ids) - 1):.2f} chars per token)", flush=True)

    config = GPT2Config(vocab_size=len(tokenizer), n_positions=args.block_size,
                        n_embd=args.n_embd, n_layer=args.n_layer, n_head=args.n_head,
                        resid_pdrop=args.dropout, embd_pdrop=args.dropout,
                        attn_pdrop=args.dropout, bos_token_id=eos, eos_token_id=eos,
                        pad_token_id=eos, attn_implementation="eager")
    model = GPT2LMHeadModel(config)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"GPT-2 architecture, {n_params / 1e6:.2f}M parameters", flush=True)

    data = torch.tensor(train_ids)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    warmup = max(1, args.steps // 20)

    def lr_at(step):  # linear warm-up, then cosine decay to a tenth
        return warmup_cosine(step, args.lr, args.steps, warmup)

    log = {"step": [], "train_loss": [], "eval_step": [], "val_nats_per_char": []}
    g = torch.Generator().manual_seed(args.seed)
    model.train()
    t0, running = time.time(), None
    for step in range(args.steps):
        starts = torch.randint(0, len(data) - args.block_size - 1, (args.batch_size,), generator=g)
        x = torch.stack([data[s:s + args.block_size] for s in starts])  # (B, T)
        y = torch.stack([data[s + 1:s + 1 + args.block_size] for s in starts])  # (B, T)
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        logits = model(x).logits  # (B, T, vocab)
        loss = torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if step % 25 == 0 or step == args.steps - 1:
            log["step"].append(step)
            log["train_loss"].append(round(running, 4))
            print(f"step {step:5d}  loss {running:.3f} nats/token  lr {lr_at(step):.2e}  "
                  f"{(time.time() - t0) / (step + 1):.2f}s/step", flush=True)
        if (step + 1) % args.eval_every == 0 or step == args.steps - 1:
            val = nats_per_char(model, val_ids, len(val_text), args.block_size,
                                args.block_size // 2)
            log["eval_step"].append(step + 1)
            log["val_nats_per_char"].append(round(val, 4))
            print(f"step {step + 1:5d}  validation {val:.4f} nats/char "
                  f"({time.time() - t0:.0f}s elapsed)", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    final = log["val_nats_per_char"][-1]
    summary = {"validation_play": args.val_play, "final_val_nats_per_char": final,
               "parameters": n_params, "training_tokens": len(train_ids),
               "chars_per_token": round(len(val_text) / (len(val_ids) - 1), 3),
               "train_seconds": round(time.time() - t0), "args": {
                   k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
               **log}
    (args.out / "training_log.json").write_text(json.dumps(summary, indent=1) + "\n")

    model.eval()
    prompt = tokenizer("ROMEO.\n", return_tensors="pt")
    sample = model.generate(**prompt, max_new_tokens=80, do_sample=True, temperature=0.8,
                            top_k=50, pad_token_id=eos)
    print("\nSample:\n" + tokenizer.decode(sample[0]))
    print(f"\nValidation loss on {args.val_play}: {final:.4f} nats per character")
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
