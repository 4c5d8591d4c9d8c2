"""The Recurrent networks endpoints through gradio_client, as a client would call them."""

import pytest
from gradio_client.exceptions import AppError

from models import recurrent as rec
from models.recurrent import language as lang


def streamed(client, api, **kwargs):
    job = client.submit(**kwargs, api_name=api)
    job.result()
    return job.outputs()


def test_train_recurrent_streams_and_ends_with_its_numbers(client):
    outputs = streamed(client, "/train_recurrent", cell="gru", delay=6, hidden=16, steps=40,
                       seed=1, clip=1.0, truncate=0)
    sentence, numbers = outputs[-1]
    assert {"step", "loss", "accuracy", "grad_norms"} <= set(numbers)
    assert numbers["step"] == 40 and numbers["cell"] == "gru" and numbers["status"] == "done"
    assert len(numbers["grad_norms"]) == 7 and all(n > 0 for n in numbers["grad_norms"])
    assert "Step 40" in sentence
    # the same run in-process: the same numbers (seeded)
    run = rec.Run(cell="gru", delay=6, hidden=16, seed=1, clip=1.0)
    for _ in range(40):
        run.step()
    assert numbers["accuracy"] == pytest.approx(run.evaluate()[1])


def test_train_recurrent_with_truncation_reports_zero_gradients_before_the_window(client):
    _, numbers = streamed(client, "/train_recurrent", cell="lstm", delay=10, steps=2,
                          truncate=4)[-1]
    assert numbers["grad_norms"][:7] == [0.0] * 7 and all(numbers["grad_norms"][7:])


def test_train_race_trains_the_cells_asked_for(client):
    *_, numbers = streamed(client, "/train_race", cells=["rnn", "lstm"], delay=5, steps=10)[-1]
    assert numbers["step"] == 10 and set(numbers["cells"]) == {"rnn", "lstm"}


def test_gradient_through_time_first_output_is_the_numbers(client):
    numbers, _, sentence = client.predict(cell="rnn", delay=15, seed=0, init_scale=4.0,
                                          api_name="/gradient_through_time")
    assert len(numbers["grad_norms"]) == len(numbers["clipped"]) == 16
    assert numbers["grad_norms"][0] > numbers["grad_norms"][-1]  # exploding, going back
    assert max(numbers["clipped"]) < max(numbers["grad_norms"])
    assert "grows by a factor" in sentence


def test_unroll_returns_every_step(client):
    _, arithmetic, numbers = client.predict(cell="lstm", sequence="AB?", hidden=3, seed=2,
                                            api_name="/unroll")
    assert len(numbers["steps"]) == 3 and len(numbers["steps"][0]["f"]) == 3
    assert "forget gate" in arithmetic


def test_score_text_first_output_agrees_with_the_model(client):
    text = "Friends, Romans, countrymen, lend me your ears;"
    for model in lang.MODELS:
        numbers, _ = client.predict(text=text, model=model, api_name="/score_text")
        assert numbers["model"] == model and len(numbers["chars"]) == len(text)
        assert numbers["nats_per_char"] == pytest.approx(
            lang.score_text(text, model)["nats_per_char"], abs=1e-4)


def test_greedy_lstm_generate_streams_the_models_own_continuation(client):
    outputs = streamed(client, "/lstm_generate", prompt="ROMEO.\n", temperature=0,
                       max_new_tokens=25, seed=0)
    assert len(outputs) >= 2  # streamed, a character at a time
    assert outputs[-1] == list(lang.generate("ROMEO.\n", 0, 25, 0))[-1]


@pytest.mark.parametrize("api, kwargs, words", [
    ("/score_text", dict(text="x" * 4001, model="shakespeare-lstm"), "at most 4,000"),
    ("/score_text", dict(text="", model="shakespeare-gpt"), "empty"),
    ("/score_text", dict(text="hi", model="../../etc/passwd"), "not in the list of choices"),
    ("/train_recurrent", dict(cell="transformer"), "not in the list of choices"),
    ("/train_recurrent", dict(delay=1000), "greater than maximum value"),
    ("/train_recurrent", dict(steps=10 ** 9), "greater than maximum value"),
    ("/train_recurrent", dict(clip=-1), "less than minimum value"),
    ("/train_race", dict(cells=[]), "at least one cell"),
    ("/unroll", dict(sequence="hello"), "cannot"),
    ("/gradient_through_time", dict(init_scale=100), "greater than maximum value"),
    ("/lstm_generate", dict(prompt="", temperature=0.8, max_new_tokens=5, seed=0), "empty"),
    ("/lstm_generate", dict(prompt="a", temperature=0.8, max_new_tokens=10 ** 6, seed=0),
     "greater than maximum value"),
])
def test_bad_inputs_are_sentences(client, api, kwargs, words):
    with pytest.raises(AppError, match=words):
        client.predict(**kwargs, api_name=api)
