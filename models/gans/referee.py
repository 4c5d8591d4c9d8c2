"""The app's digit CNN as a GAN's referee: what it reads a sample as, how sure it is, its
features for a Fréchet distance, and each sample's nearest training image.

numpy in and out; torch (the CNN) is imported on first use.
"""

from __future__ import annotations

import numpy as np

from models.lazy import no_grad, torch

BATCH = 500


@no_grad
def read(images: np.ndarray) -> dict:
    """The CNN's verdict on each 28 x 28 image in [0, 1] (1 = ink): "digits" (N,) ints,
    "confidence" (N,) its softmax probability, "features" (N, 128), the layer its classifier
    reads. The CNN sees the images as they are (they are MNIST-like already)."""
    from models import digits

    cnn = digits.load().cnn
    x = torch.from_numpy(np.asarray(images, dtype=np.float32)).view(-1, 1, 28, 28)
    labels, confidence, features = [], [], []
    for i in range(0, len(x), BATCH):
        f = cnn.features(x[i:i + BATCH])
        p = torch.softmax(cnn.fc2(f), dim=-1)
        c, d = p.max(dim=-1)
        labels.append(d)
        confidence.append(c)
        features.append(f)
    return {"digits": torch.cat(labels).numpy(), "confidence": torch.cat(confidence).numpy(),
            "features": torch.cat(features).numpy().astype(np.float64)}


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of features (N, D):
    |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)); FID is this on Inception's features,
    ours is on the digit CNN's. The matrix square root's trace is taken from the symmetric
    S_a^(1/2) S_b S_a^(1/2), whose eigenvalues are those of S_a S_b."""
    mu = a.mean(0) - b.mean(0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    values, vectors = np.linalg.eigh(sa)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root_a @ sb @ root_a)
    trace_root = np.sqrt(np.clip(middle, 0, None)).sum()
    return float(mu @ mu + np.trace(sa) + np.trace(sb) - 2 * trace_root)


def nearest(images: np.ndarray, pool: np.ndarray,
            chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """For each image (N, 28, 28) in [0, 1], the index of the nearest image of `pool`
    (M, 28, 28; uint8 0..255 or floats in [0, 1]) and the Euclidean distance to it, in pixels
    scaled to [0, 1] (two images that differ by one fully inked pixel are 1 apart)."""
    a = np.asarray(images, dtype=np.float32).reshape(len(images), -1)
    p = np.asarray(pool, dtype=np.float32).reshape(len(pool), -1)
    if pool.dtype == np.uint8:
        p = p / 255.0
    p_sq = (p * p).sum(1)
    index = np.empty(len(a), dtype=np.int64)
    distance = np.empty(len(a), dtype=np.float64)
    for i in range(0, len(a), chunk):
        block = a[i:i + chunk]
        d2 = (block * block).sum(1)[:, None] - 2 * block @ p.T + p_sq[None, :]
        j = d2.argmin(1)
        index[i:i + chunk] = j
        distance[i:i + chunk] = np.sqrt(np.clip(d2[np.arange(len(block)), j], 0, None))
    return index, distance
