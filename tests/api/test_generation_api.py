"""The Text generation endpoints through gradio_client, as a client sees them."""

import time

import pytest
from gradio_client.exceptions import AppError

GOOD = dict(prompt="ROMEO.\n", temperature=0.8, max_new_tokens=20, top_k=40, top_p=0.95,
            seed=3)


def test_generate_text_streams_the_text_so_far(client):
    job = client.submit(**GOOD, api_name="/generate_text")
    outputs = job.result(timeout=60) and job.outputs()
    texts = [o[0] for o in outputs]
    assert len(texts) >= 2, "it streams: several updates"
    assert all(isinstance(t, str) for t in texts)
    assert texts[-1] and all(texts[-1].startswith(t[:-4]) for t in texts[:-1])
    assert not texts[-1].startswith("ROMEO.")  # the prompt is excluded
    again = client.predict(**GOOD, api_name="/generate_text")[0]
    assert again == texts[-1]  # same seed, same settings, same text


def test_greedy_through_the_api_is_the_models_choice(client):
    text = client.predict(**{**GOOD, "temperature": 0, "max_new_tokens": 5},
                          api_name="/generate_text")[0]
    label = client.predict(prompt="ROMEO.\n", temperature=0, top_k=0, top_p=1,
                           api_name="/next_token_distribution")[0]
    assert label["confidences"][0]["confidence"] == 1.0
    assert text  # five greedy tokens


def test_next_token_distribution_is_a_label(client):
    label = client.predict(prompt="Friends, Romans, countrymen", temperature=1.0, top_k=5,
                           top_p=1.0, api_name="/next_token_distribution")[0]
    scores = [c["confidence"] for c in label["confidences"]]
    assert len(scores) >= 10 and sum(s > 0 for s in scores) == 5
    assert sum(scores) == pytest.approx(1.0, abs=1e-4)


def test_a_stopped_generation_frees_the_server(client):
    job = client.submit(**{**GOOD, "max_new_tokens": 400, "temperature": 1.5, "top_k": 0,
                           "top_p": 1.0}, api_name="/generate_text")
    deadline = time.time() + 30
    while not job.outputs() and time.time() < deadline:
        time.sleep(0.05)
    job.cancel()
    start = time.time()
    label = client.predict(prompt="ROMEO.\n", temperature=1, top_k=0, top_p=1,
                           api_name="/next_token_distribution")[0]
    assert label["label"] and time.time() - start < 10


# The sliders refuse values past their ends themselves ("Value 3 is greater than maximum value
# 2."); our own checks say the same for what gets past them.
NOT_OFFERED = "not in the list of choices|not available"
BOUND = "greater than maximum|less than minimum|between|more than 0|at most 1|Top-k"


@pytest.mark.parametrize("change, message", [
    (dict(temperature=3), BOUND), (dict(temperature=-1), BOUND), (dict(top_p=0), BOUND),
    (dict(top_p=2), BOUND), (dict(top_k=-5), BOUND), (dict(max_new_tokens=100_000), BOUND),
    (dict(temperature="hot"), "number|float"), (dict(seed=-1), "seed|less than minimum"),
    (dict(prompt=""), "empty"), (dict(prompt="\x00\x00"), "empty"),
    (dict(model="openai-community/gpt2-xl"), NOT_OFFERED), (dict(model="../../etc/passwd"),
                                                            NOT_OFFERED),
])
def test_bad_generation_requests_get_clear_errors(client, change, message):
    with pytest.raises(AppError, match=message):
        client.predict(**{**GOOD, **change}, api_name="/generate_text")
    assert client.predict(prompt="ROMEO.\n", temperature=1, top_k=0, top_p=1,
                          api_name="/next_token_distribution")[0]["label"]


def test_odd_prompts_are_answered(client):
    for prompt in ["שלום 🙂", "<script>alert(1)</script>", "x\x00y", "a" * 100_000]:
        text = client.predict(**{**GOOD, "prompt": prompt, "max_new_tokens": 3},
                              api_name="/generate_text")[0]
        assert isinstance(text, str)
