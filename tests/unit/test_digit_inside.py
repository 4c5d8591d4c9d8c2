"""models/digits/inside.py: the CNN opened up on a drawing, checked against its own modules,
torch's conv2d and plain arithmetic; saliency, the first layer, and the dreamed digits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import DATA

from models.digits import inside as digit_inside
from models.digits.networks import load


@pytest.fixture(scope="module")
def image():
    data = np.load(DATA / "mnist_heldout.npz")
    return data["images"][7].astype(np.float32) / 255.0


def test_the_maps_are_the_cnns_own(image):
    cnn = load().cnn
    result = digit_inside.layers(image)
    x = torch.from_numpy(image).view(1, 1, 28, 28)
    with torch.no_grad():  # the CNN's modules, called one by one as DigitCNN.features does
        c1 = cnn.conv1(x)
        c2 = cnn.bn1(cnn.conv2(F.relu(c1)))
        p1 = F.max_pool2d(F.relu(c2), 2)
        c3 = cnn.conv3(p1)
        c4 = cnn.bn2(cnn.conv4(F.relu(c3)))
        p2 = F.max_pool2d(F.relu(c4), 2)
        dense = F.relu(cnn.fc1(p2.flatten(1)))
        logits = cnn(x)[0]
    expected = [c1, c2, p1, c3, c4, p2, dense]
    for layer, want, relu in zip(result["layers"], expected,
                                 (True, True, False, True, True, False, False)):
        want = want[0]
        np.testing.assert_allclose(layer["maps"], F.relu(want).numpy() if relu else want.numpy(),
                                   atol=1e-5, err_msg=layer["name"])
        if relu:
            np.testing.assert_allclose(layer["before"], want.numpy(), atol=1e-5)
    np.testing.assert_allclose(result["logits"], logits.numpy(), atol=1e-5)
    assert abs(sum(result["probabilities"].values()) - 1) < 1e-5
    assert result["layers"][0]["shape"] == [32, 28, 28] and result["layers"][-1]["shape"] == [128]


@pytest.mark.parametrize("channel, row, col", [(0, 0, 0), (5, 10, 12), (31, 27, 27),
                                               (17, 14, 3)])
def test_one_pixel_written_out_is_the_maps_value(image, channel, row, col):
    r = digit_inside.pixel(image, "conv1", channel, row, col)
    assert r["value"] == pytest.approx(sum(map(sum, r["products"])) + r["bias"], abs=1e-6)
    assert r["value"] == pytest.approx(r["map_value"], abs=1e-5)
    maps = digit_inside.layers(image)["layers"][0]
    assert r["after_relu"] == pytest.approx(float(maps["maps"][channel, row, col]), abs=1e-5)


@pytest.mark.parametrize("kernel", ["vertical edge", "blur", "1 2 3, 4 5 6, 7 8 -9",
                                    [[0, 1, 0], [1, -4, 1], [0, 1, 0]]])
def test_your_kernel_is_torchs_conv2d(image, kernel):
    r = digit_inside.apply_kernel(image, kernel)
    k = torch.tensor(r["kernel"], dtype=torch.float32).view(1, 1, 3, 3)
    expected = F.conv2d(torch.from_numpy(image).view(1, 1, 28, 28), k, padding=1)[0, 0]
    np.testing.assert_allclose(r["output"], expected.numpy(), atol=1e-5)
    learned = load().cnn.conv1.weight.detach()[:, 0].reshape(32, 9)
    cos = F.cosine_similarity(learned, k.view(1, 9), dim=1)
    assert r["closest"] == int(cos.argmax()) and r["cosine"] == pytest.approx(float(cos.max()),
                                                                              abs=1e-5)


def test_bad_kernels_and_pixels_are_sentences(image):
    for kernel in ("1 2 3", "a b c d e f g h i", "1 2 3 4 5 6 7 8 inf", None, [[1, 2], [3]]):
        with pytest.raises(ValueError, match="nine"):
            digit_inside.apply_kernel(image, kernel)
    with pytest.raises(ValueError, match="0 to 31"):
        digit_inside.pixel(image, "conv1", 32, 0, 0)
    with pytest.raises(ValueError, match="written out for conv1"):
        digit_inside.pixel(image, "conv3", 0, 0, 0)


def test_saliency_of_blank_pixels_is_zero(image):
    r = digit_inside.saliency(image)
    blank = image == 0
    assert blank.sum() > 300
    assert np.all(r["cnn"][blank] == 0) and np.all(r["mlp"][blank] == 0)
    assert np.abs(r["cnn"][~blank]).max() > 0 and "gradient × input" in r["method"]
    # gradient × input of the predicted logit, by hand for the MLP (linear and ReLU).
    x = torch.from_numpy(image).view(1, 1, 28, 28).requires_grad_(True)
    logits = load().mlp(x)[0]
    logits[int(r["mlp_label"])].backward()
    np.testing.assert_allclose(r["mlp"], (x.grad * x).detach()[0, 0].numpy(), atol=1e-6)


def test_first_layer_weights_and_activations(image):
    r = digit_inside.first_layer(image)
    mlp = load().mlp
    assert r["weights"].shape == (16, 28, 28)
    np.testing.assert_allclose(r["weights"].reshape(16, 784), mlp.fc1.weight.detach().numpy())
    with torch.no_grad():
        h1 = torch.relu(mlp.fc1(torch.from_numpy(image).view(1, 784)))[0]
    np.testing.assert_allclose(r["activations"], h1.numpy(), atol=1e-5)



def test_bad_dreams_are_sentences():
    for args, message in [((10, 10, 0), "digit must be"), ((3, 501, 0), "Steps must be"),
                          ((3, 10, -1), "seed must be"), (("three", 10, 0), "digit must be")]:
        with pytest.raises(ValueError, match=message):
            digit_inside.dream(*args)
