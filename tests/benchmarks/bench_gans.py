"""The GANs tab's figures: how fast the live GANs train, how soon the live digit GAN's samples
are read as digits, how good the shipped GANs are by the app's CNN (confidence, coverage, a
Fréchet distance in its feature space against held-out real digits, beside the same distance
between real digits), copies, and the endpoints against gradio's echo floor.

    python tests/benchmarks/bench_gans.py [--seeds 3] [--calls 20] [--skip-api]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.common import ECHO_APP, ROOT, against_floor, machine, server  # noqa: E402


def plane_speed(gans, runner):
    print("\nThe plane (one step: the judge's steps, then the forger's), 1 thread:")
    for d_steps in (1, 3):
        run = gans.PlaneRun(d_steps=d_steps)
        t = time.perf_counter()
        for _ in range(500):
            run.step()
        rate = 500 / (time.perf_counter() - t)
        t = time.perf_counter()
        run.record()
        frame = time.perf_counter() - t
        print(f"  d_steps {d_steps}: {rate:,.0f} steps/s flat out; a frame's record (distance, "
              f"heatmap, arrows, grid) {frame * 1000:.0f} ms")
    run = gans.PlaneRun()
    t = time.perf_counter()
    states = list(runner.iterate(run.run(1500)))
    print(f"  the default Play (1,500 steps, paced at the runner's share): "
          f"{time.perf_counter() - t:.1f} s, {states[-1]['steps_per_second']:,.0f} steps/s "
          f"while training, distance {states[0]['distance']:.3f} -> {states[-1]['distance']:.3f}"
          f" (floor {states[-1]['floor']:.3f})")


def plane_learning(gans, seeds: int):
    print(f"\nThe plane, default settings but the data, {seeds} seeds, 1,500 steps: final distance"
          " / starting distance (floor / start in brackets)")
    for distribution in ("gaussians", "ring", "moons", "line"):
        ratios, floors = [], []
        for seed in range(seeds):
            run = gans.PlaneRun(distribution=distribution, seed=seed)
            first = run.record()
            for _ in range(1500):
                run.step()
            last = run.record()
            ratios.append(last["distance"] / first["distance"])
            floors.append(last["floor"] / first["distance"])
        print(f"  {distribution:10s} " + ", ".join(f"{r:.2f}" for r in ratios)
              + f"  ({np.mean(floors):.2f})")


def live_digits(gd, seeds: int):
    print(f"\nThe live digit GAN (defaults: forger {gd.SETTINGS['lr_generator'].default:g}, judge "
          f"{gd.SETTINGS['lr_discriminator'].default:g}), 1 thread, flat out; read as digits = "
          f"half of {gd.LIVE_CENSUS} fixed-noise samples read with >= {gd.CONFIDENT:.0%}:")
    for seed in range(seeds):
        run = gd.DigitRun(seed=seed)
        train_time, reached = 0.0, None
        shares = {}
        while run.steps < 1500:
            start = time.perf_counter()
            for _ in range(50):
                run.step()
            train_time += time.perf_counter() - start
            state = run.record()
            shares[run.steps] = state["confident"]
            if reached is None and state["confident"] >= 0.5:
                reached = (run.steps, train_time)
        rate = run.steps / train_time
        paced = (f"{reached[0]:,} steps, {reached[1]:.0f} s of training (the runner trains "
                 f"40 % of a Play's time, and reads the samples besides)" if reached
                 else "not within 1,500 steps")
        print(f"  seed {seed}: {rate:.0f} steps/s; read as digits after {paced}; at 600 steps "
              f"{shares[600]:.0%}, 1,500: {shares[1500]:.0%}, classes "
              f"{state['classes_present']}, diversity {state['diversity']:.2f} "
              f"(real {state['real_diversity']:.2f})")
    run = gd.DigitRun(lr_generator=2e-2, lr_discriminator=1e-4, seed=0)
    for _ in range(600):
        run.step()
    state = run.record()
    print(f"  the collapse preset (forger 2e-2, judge 1e-4), 600 steps: the most common reading "
          f"{max(state['all_read'])} of {gd.LIVE_CENSUS}, diversity {state['diversity']:.2f}, "
          f"read as digits {state['confident']:.0%}")


def shipped(gd, referee, seeds: int):
    print("\nThe shipped GANs, read by the digit CNN:")
    for seed in range(seeds):
        c = gd.census(seed=seed, n=1000)
        print(f"  unconditional, seed {seed}: {c['confident']:.1%} of 1,000 read with >= 80 %; "
              f"{c['classes_present']} classes; fewest {min(c['histogram'])} "
              f"({np.argmin(c['histogram'])}), most {max(c['histogram'])} "
              f"({np.argmax(c['histogram'])})")
    for seed in range(seeds):
        shares = [gd.census(seed=seed, digit=d, n=100) for d in range(10)]
        asked = [s["as_asked"] for s in shares]
        print(f"  conditional, seed {seed}: {np.mean(asked):.1%} of 1,000 (100 per digit) read "
              f"as the digit asked for (worst: {min(asked):.0%} for {int(np.argmin(asked))}); "
              f"{np.mean([s['confident'] for s in shares]):.1%} read with >= 80 %")
    data = np.load(ROOT / "tests" / "data" / "mnist_heldout.npz")
    held = data["images"] / 255.0
    held_features = referee.read(held)["features"]
    pool, _ = gd.training_digits()
    rng = np.random.default_rng(0)
    print("  Fréchet distance in the CNN's 128 features, 1,000 samples against the 1,000 "
          "held-out digits:")
    floors = []
    for _ in range(seeds):
        real = pool[rng.choice(len(pool), 1000, replace=False)] / 255.0
        floors.append(referee.frechet_distance(referee.read(real)["features"], held_features))
    print(f"    floor, 1,000 real training digits: {', '.join(f'{f:.1f}' for f in floors)}")
    for digit_name, digit in (("unconditional", None), ("conditional (100 of each)", "each")):
        values = []
        for seed in range(seeds):
            if digit is None:
                z = gd.noise(seed, 1000, gd.generator(False).config.z_dim)
                images = gd.make(z, None)
            else:
                images = np.concatenate([gd.make(gd.noise(seed * 10 + d, 100, gd.generator(
                    True).config.z_dim), d) for d in range(10)])
            values.append(referee.frechet_distance(referee.read(images)["features"],
                                                   held_features))
        print(f"    {digit_name}: {', '.join(f'{v:.1f}' for v in values)}")
    _, real_nearest = referee.nearest(held, pool)
    samples = np.concatenate([gd.make(gd.noise(s, 500, gd.generator(False).config.z_dim), None)
                              for s in range(2)])
    _, fake_nearest = referee.nearest(samples, pool)
    print(f"  nearest training digit (pixels in [0, 1]): held-out real digits min "
          f"{real_nearest.min():.2f}, 1st percentile {np.percentile(real_nearest, 1):.2f}, "
          f"median {np.median(real_nearest):.2f}; 1,000 unconditional samples min "
          f"{fake_nearest.min():.2f}, median {np.median(fake_nearest):.2f}; threshold "
          f"{gd.COPY_DISTANCE:g}")


def through_the_api(calls: int):
    with server(["app.py"]) as (client, _, _), server(["-c", ECHO_APP]) as (echo, _, _):
        client.predict(n=16, seed=0, digit=None, api_name="/generate_digits")  # loads them
        client.predict(n=16, seed=0, digit=3, api_name="/generate_digits")
        calls_ = {
            "echo": lambda: echo.predict("hi", api_name="/echo"),
            "generate_digits (16, unconditional)": lambda: client.predict(
                n=16, seed=1, digit=None, api_name="/generate_digits"),
            "generate_digits (64, conditional)": lambda: client.predict(
                n=64, seed=1, digit=7, api_name="/generate_digits"),
            "walk_digits": lambda: client.predict(seed_a=0, seed_b=5, digit=None,
                                                  api_name="/walk_digits"),
        }
        results = against_floor(calls_, calls)
        floor = statistics.median(results["echo"])
        for api, kwargs in (("/train_gan_2d", {}), ("/train_digit_gan", {})):
            t = time.perf_counter()
            client.submit(**kwargs, api_name=api).result()
            took = time.perf_counter() - t
            print(f"  {api}, the default budget (paced at the runner's share): {took:.1f} s "
                  f"({took / floor:.0f} × the floor)")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--calls", type=int, default=20)
    p.add_argument("--skip-api", action="store_true")
    p.add_argument("--only", choices=["plane", "live", "shipped", "api"])
    args = p.parse_args()
    import torch

    from models import gans, runner
    from models.gans import digits as gd
    from models.gans import referee

    torch.set_num_threads(1)
    print(f"machine: {machine()}")
    if args.only in (None, "plane"):
        plane_speed(gans, runner)
        plane_learning(gans, args.seeds)
    if args.only in (None, "live"):
        live_digits(gd, args.seeds)
    if args.only in (None, "shipped"):
        shipped(gd, referee, args.seeds)
    if not args.skip_api and args.only in (None, "api"):
        through_the_api(args.calls)


if __name__ == "__main__":
    main()
