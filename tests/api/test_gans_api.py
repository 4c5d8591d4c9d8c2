"""The GANs endpoints through gradio_client, as a client would call them."""

import numpy as np
import pytest
from gradio_client.exceptions import AppError

from models import gans
from models.gans import digits as gd


def streamed(client, api, **kwargs):
    job = client.submit(**kwargs, api_name=api)
    job.result()
    return job.outputs()


def test_train_gan_2d_streams_and_ends_with_its_numbers(client):
    outputs = streamed(client, "/train_gan_2d", distribution="ring", steps=30,
                       lr_generator=0.002, lr_discriminator=0.001, d_steps=2,
                       loss="least_squares", seed=4)
    numbers = outputs[-1][-1]
    assert set(numbers) == {"step", "loss_g", "loss_d", "distance"}
    assert numbers["step"] == 30
    # the same run in-process: the same numbers (seeded)
    run = gans.PlaneRun(distribution="ring", lr_generator=0.002, lr_discriminator=0.001,
                        d_steps=2, loss="least_squares", seed=4)
    for _ in range(30):
        run.step()
    assert numbers["distance"] == pytest.approx(run.record()["distance"], rel=1e-5)


def test_train_gan_2d_learns_a_drawn_distribution(client):
    points = [[0.5 + 0.01 * i, -0.5] for i in range(10)]
    numbers = streamed(client, "/train_gan_2d", distribution="drawn", points=points, steps=5,
                       seed=0)[-1][-1]
    assert numbers["step"] == 5


@pytest.mark.parametrize("kwargs, message", [  # gradio's own checks come first, or ours
    (dict(distribution="spiral"), "not in the list of choices"),
    (dict(loss="hinge"), "not in the list of choices"),
    (dict(d_steps=11), "greater than maximum value 10"),
    (dict(lr_generator=0), "less than minimum"),
    (dict(distribution="drawn"), "at least 5 points"),
    (dict(distribution="drawn", points=[[0, 0]] * 2000), "between 5 and 1,000")])
def test_train_gan_2d_refuses_bad_settings_with_a_sentence(client, kwargs, message):
    with pytest.raises(AppError, match=message):
        client.predict(**{"steps": 2, **kwargs}, api_name="/train_gan_2d")


def test_generate_digits_first_output_is_images_readings_and_distances(client):
    numbers, gallery, sentence = client.predict(n=6, seed=5, digit=None,
                                                api_name="/generate_digits")
    images = np.array(numbers["images"])
    assert images.shape == (6, 28, 28) and images.min() >= 0 and images.max() <= 1
    made = gd.generate(6, 5)
    np.testing.assert_allclose(images, made["images"], atol=2e-3)
    assert numbers["cnn"] == [{"digit": r["digit"], "confidence": pytest.approx(r["confidence"])}
                              for r in made["cnn"]]
    assert numbers["nearest_distance"] == pytest.approx(made["nearest_distance"], abs=1e-3)
    assert gallery.count("<figure") == 6 and "CNN: " in gallery and "data:image/png" in gallery
    assert "read by the CNN" in sentence


def test_generate_digits_conditional_makes_the_digit_asked_for(client):
    numbers, _, sentence = client.predict(n=20, seed=2, digit=7, api_name="/generate_digits")
    assert sum(r["digit"] == 7 for r in numbers["cnn"]) >= 17
    assert "asked for" in sentence


@pytest.mark.parametrize("kwargs, message", [  # gradio's own checks first, then ours
    (dict(n=0), "less than minimum value 1"), (dict(n=65), "greater than maximum value 64"),
    (dict(digit="eleven"), "Digit must be a number"), (dict(digit=12), "Digit must be between"),
    (dict(seed=-3), "less than minimum value 0")])
def test_generate_digits_refuses_bad_requests_with_a_sentence(client, kwargs, message):
    with pytest.raises(AppError, match=message):
        client.predict(**{"n": 2, "seed": 0, "digit": None, **kwargs},
                       api_name="/generate_digits")


def test_walk_and_census(client):
    walk = client.predict(seed_a=1, seed_b=2, digit=None, api_name="/walk_digits")
    assert walk.count("<figure") == gd.WALK_FRAMES
    _, text = client.predict(seed=0, api_name="/digit_census")
    assert "of 10 digits present" in text


def test_train_digit_gan_streams_and_ends_with_its_numbers(client):
    numbers = streamed(client, "/train_digit_gan", steps=4, lr_generator=0.001,
                       lr_discriminator=0.0005, seed=3)[-1][-1]
    assert set(numbers) == {"step", "loss_g", "loss_d", "class_histogram"}
    assert numbers["step"] == 4 and len(numbers["class_histogram"]) == 10
    run = gd.DigitRun(lr_generator=0.001, lr_discriminator=0.0005, seed=3)
    for _ in range(4):
        run.step()
    assert numbers["loss_g"] == pytest.approx(run.losses[0], rel=1e-4)
