"""Inside the digit networks, on a visitor's own drawing (torch; imported on first use).

    layers(image)                  # the CNN layer by layer: kernels, maps before/after ReLU, ...
    pixel(image, "conv1", 5, 10, 12)   # one output pixel of one map, its products written out
    apply_kernel(image, kernel)    # your 3 x 3 kernel on the drawing, and the CNN's most like it
    saliency(image)                # gradient x input, for the CNN and the MLP
    first_layer(image)             # the MLP's 16 first-layer neurons as 28 x 28 weight images
    dream(digit, steps, seed)      # an input optimised until the CNN is sure it is `digit`

Images are 28 x 28 arrays in [0, 1], white ink on black, as models/digits makes them. Every
feature map is what the CNN's own modules computed, caught by forward hooks on them; the CNN
applies ReLU and max-pooling as functions (F.relu, F.max_pool2d), which no hook can catch, so
those two are applied here to the hooked tensors, exactly as DigitCNN.features does.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from models import checks
from models.digits.networks import load

# The CNN's steps, in order: (name, the module whose output is caught, what follows it).
CONVS = {"conv1": ("conv1", "conv1"), "conv2": ("conv2", "bn1"), "conv3": ("conv3", "conv3"),
         "conv4": ("conv4", "bn2")}  # conv2 and conv4 are followed by batch normalisation
CLASSIC = {
    "vertical edge": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "horizontal edge": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}
MAX_DREAM_STEPS = 500


def check_image(image) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.shape != (28, 28) or not np.isfinite(image).all():
        raise ValueError("Expected a 28 x 28 image of finite values.")
    return np.clip(image, 0, 1)


def _x(image) -> torch.Tensor:
    return torch.from_numpy(check_image(image)).view(1, 1, 28, 28)  # (B, C, H, W)


@torch.no_grad()
def trace(image) -> dict[str, torch.Tensor]:
    """One forward pass of the CNN with hooks on its modules: what each computed (batch row 0)."""
    cnn = load().cnn
    seen: dict[str, torch.Tensor] = {}
    names = ("conv1", "conv2", "bn1", "conv3", "conv4", "bn2", "fc1", "fc2")
    handles = [getattr(cnn, n).register_forward_hook(
        lambda m, a, out, n=n: seen.__setitem__(n, out[0].detach())) for n in names]
    try:
        logits = cnn(_x(image))
    finally:
        for h in handles:
            h.remove()
    seen["logits"] = logits[0]
    return seen


def layers(image) -> dict:
    """The CNN layer by layer on one image: for each conv layer its kernels, its feature maps
    before and after ReLU; the two poolings; the dense layer; the ten probabilities."""
    cnn, seen = load().cnn, trace(image)
    out = []
    for name, (conv, after) in CONVS.items():
        before = seen[after]  # conv (and batch norm) output: before ReLU
        maps = F.relu(before)  # as DigitCNN.features applies it
        weight = getattr(cnn, conv).weight.detach()  # (out, in, 3, 3)
        out.append({"name": name + (" + batch norm" if after.startswith("bn") else ""),
                    "shape": list(maps.shape), "maps": maps.numpy(), "before": before.numpy(),
                    "kernels": weight.numpy(), "bias": getattr(cnn, conv).bias.detach().numpy()})
        if name in ("conv2", "conv4"):
            pooled = F.max_pool2d(maps[None], 2)[0]  # (C, H/2, W/2)
            out.append({"name": f"max pool 2 × 2 ({'1' if name == 'conv2' else '2'})",
                        "shape": list(pooled.shape), "maps": pooled.numpy()})
    dense = F.relu(seen["fc1"])
    out.append({"name": "dense (fc1) + ReLU", "shape": list(dense.shape), "maps": dense.numpy()})
    probs = F.softmax(seen["logits"], -1)
    return {"input": check_image(image), "layers": out, "logits": seen["logits"].numpy(),
            "probabilities": {str(d): float(p) for d, p in enumerate(probs)}}


def pixel(image, layer="conv1", channel=0, row=14, col=14) -> dict:
    """One output pixel of the first conv layer, written out: the 3 x 3 patch of the input
    under the kernel, the nine products, their sum, the bias, and the result, which is the
    feature map's value there (before ReLU; after ReLU, max(0, it))."""
    if layer != "conv1":
        raise ValueError("The arithmetic is written out for conv1, whose input is the image "
                         "itself (deeper layers add up 32 or 64 such 3 × 3 sums).")
    channel = checks.index(channel, "The channel", 32, first=0)
    row = checks.index(row, "The row", 28, first=0)
    col = checks.index(col, "The column", 28, first=0)
    x = np.pad(check_image(image), 1)  # padding 1: the kernel may hang over the edge
    patch = x[row:row + 3, col:col + 3]
    cnn = load().cnn
    kernel = cnn.conv1.weight.detach()[channel, 0].numpy()
    bias = float(cnn.conv1.bias.detach()[channel])
    products = patch * kernel
    value = float(products.sum() + bias)
    return {"channel": channel, "row": row, "col": col, "patch": patch.tolist(),
            "kernel": kernel.tolist(), "products": products.tolist(),
            "sum": float(products.sum()), "bias": bias, "value": value,
            "after_relu": max(0.0, value),
            "map_value": float(trace(image)["conv1"][channel, row, col])}


def parse_kernel(kernel) -> np.ndarray:
    """Nine numbers (text: "1 0 -1, 2 0 -2, 1 0 -1", or a 3 x 3 list), or a classic's name."""
    if isinstance(kernel, str) and kernel.strip() in CLASSIC:
        return np.array(CLASSIC[kernel.strip()], dtype=np.float32)
    if isinstance(kernel, str):
        parts = kernel.replace(",", " ").replace(";", " ").split()
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise ValueError("A kernel is nine numbers, like “1 0 -1, 2 0 -2, 1 0 -1”, or one "
                             f"of: {', '.join(CLASSIC)}.") from None
    elif isinstance(kernel, list):
        flat = [v for r in kernel for v in (r if isinstance(r, list) else [r])]
        values = [float(v) for v in flat if isinstance(v, int | float)
                  and not isinstance(v, bool)]
        if len(values) != len(flat):
            values = []
    else:
        values = []
    if len(values) != 9 or not np.isfinite(values).all() or max(map(abs, values)) > 1e3:
        raise ValueError("A kernel is nine finite numbers (at most 1,000 in size), read row "
                         "by row.")
    return np.array(values, dtype=np.float32).reshape(3, 3)


@torch.no_grad()
def apply_kernel(image, kernel) -> dict:
    """The kernel slid over the drawing (a 3 x 3 convolution, padding 1: torch's conv2d), and
    the CNN's first-layer kernel most like it (cosine similarity of the nine weights)."""
    k = parse_kernel(kernel)
    x = _x(image)
    out = F.conv2d(x, torch.from_numpy(k).view(1, 1, 3, 3), padding=1)[0, 0]
    learned = load().cnn.conv1.weight.detach()[:, 0].reshape(32, 9).numpy()
    flat = k.ravel()
    cos = learned @ flat / (np.linalg.norm(learned, axis=1) * max(np.linalg.norm(flat), 1e-12))
    best = int(np.argmax(cos))
    return {"kernel": k.tolist(), "output": out.numpy(), "closest": best,
            "closest_kernel": learned[best].reshape(3, 3).tolist(),
            "cosine": float(cos[best]), "closest_map": trace(image)["conv1"][best].numpy()}


def saliency(image) -> dict:
    """Which pixels mattered, by gradient × input: for each network, how much the score
    (logit) of the class it predicts would change per unit of each pixel, times the pixel.
    A blank pixel (0) scores exactly 0: only ink can matter, by construction."""
    models = load()
    out = {"method": "gradient × input (of the predicted class's logit)"}
    for name, net in (("cnn", models.cnn), ("mlp", models.mlp)):
        x = _x(image).clone().requires_grad_(True)
        logits = net(x)[0]
        label = int(logits.argmax())
        logits[label].backward()
        out[name] = (x.grad[0, 0] * x[0, 0]).detach().numpy()
        out[f"{name}_label"] = str(label)
    return out


@torch.no_grad()
def first_layer(image) -> dict:
    """The MLP's 16 first-layer neurons: each one's 784 weights as a 28 x 28 picture, and how
    strongly it fires for the image."""
    mlp = load().mlp
    x = torch.from_numpy(check_image(image)).view(1, 784)
    h1 = mlp.layers(x)[0][0]
    return {"weights": mlp.fc1.weight.detach().view(16, 28, 28).numpy(),
            "activations": h1.numpy(), "activation": mlp.config.activation}


def _leaky_logits(x: torch.Tensor, slope: float = 0.01) -> torch.Tensor:
    """DigitCNN's forward pass with leaky ReLUs: the route the dream's gradient takes. The CNN
    was taught to answer "I don't know" to anything unlike a digit (outlier exposure), and does
    so with every dense neuron silent: from a blank or noisy start, a plain ReLU passes no
    gradient at all. Leaky ones pass a little; every verdict is still the real network's."""
    cnn = load().cnn

    def f(t):
        return F.leaky_relu(t, slope)

    x = f(cnn.conv1(x))
    x = F.max_pool2d(f(cnn.bn1(cnn.conv2(x))), 2)  # (B, 32, 14, 14)
    x = f(cnn.conv3(x))
    x = F.max_pool2d(f(cnn.bn2(cnn.conv4(x))), 2)  # (B, 64, 7, 7)
    return cnn.fc2(f(cnn.fc1(x.flatten(1))))


def dream(digit=3, steps=300, seed=0) -> dict:
    """What the CNN thinks `digit` looks like: an input, from faint noise, changed by gradient
    ascent (Adam) on the CNN's log-probability of the digit, with a smoothness penalty
    (neighbouring pixels alike); then both networks' verdicts on it."""
    digit = checks.integer(digit, "The digit", 0, 9)
    steps = checks.integer(steps, "Steps", 0, MAX_DREAM_STEPS)
    seed = checks.integer(seed, "The seed", 0, 2 ** 31 - 1)
    models = load()
    g = torch.Generator().manual_seed(seed)
    z = (torch.randn(1, 1, 28, 28, generator=g) * 0.5 - 2).requires_grad_(True)  # pixels ≈ 0.1
    optimiser = torch.optim.Adam([z], lr=0.1)
    for _ in range(steps):
        x = torch.sigmoid(z)  # pixels stay in [0, 1]
        log_p = F.log_softmax(_leaky_logits(x)[0], -1)[digit]
        smooth = ((x[..., 1:, :] - x[..., :-1, :]) ** 2).mean() + (
            (x[..., :, 1:] - x[..., :, :-1]) ** 2).mean()
        loss = -log_p + smooth
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        x = torch.sigmoid(z)
        cnn = F.softmax(models.cnn(x)[0], -1)
        mlp = F.softmax(models.mlp(x)[0], -1)
    return {"digit": digit, "steps": steps, "seed": seed, "image": x[0, 0].numpy(),
            "cnn": {str(d): float(p) for d, p in enumerate(cnn)},
            "mlp": {str(d): float(p) for d, p in enumerate(mlp)}}
