"""What pretraining buys, on held-out drawings: with 5 drawings of each starter symbol (three
seeded picks) and the tab's defaults, the pretrained ways beat the same network trained from
scratch on the 400 held-out variants by the margins the README states."""

import numpy as np
import pytest
import torch

from models import transfer

PER_CLASS = 5
PICKS = (0, 1, 2)
# The README's margins (points of accuracy, the mean of the three picks).
MARGIN = {"feature_extraction": 0.05, "fine_tune": 0.02}


@pytest.fixture(scope="module")
def accuracy():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as models/training/transfer_curve.py measured the curve
    try:
        test = transfer.heldout_examples()
        pool = transfer.starter_examples(40)
        defaults = transfer.SETTINGS.defaults
        return {m: np.mean([transfer.learn_and_score(
            m, transfer.subset(pool, PER_CLASS, seed)[0], test, defaults["steps"],
            defaults["freeze"], defaults["augment"], seed) for seed in PICKS])
            for m in transfer.METHODS}
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("method", list(MARGIN))
def test_pretrained_ways_beat_from_scratch_on_held_out_drawings(accuracy, method):
    assert accuracy[method] >= accuracy["scratch"] + MARGIN[method], accuracy


def test_the_shipped_curve_is_what_the_code_measures(accuracy):
    curve = transfer.shipped_curve()["accuracy"]
    for method, value in accuracy.items():
        assert value == pytest.approx(np.mean(curve[method][str(PER_CLASS)][:len(PICKS)]),
                                      abs=0.02), method
