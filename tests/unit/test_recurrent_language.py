"""The LSTM against the GPT: scoring agrees with each model's own loss, greedy generation with a
plain loop, and bad input is refused before any work."""

import pytest
import torch

from models import registry
from models.recurrent import char_lstm
from models.recurrent import language as lang

TEXT = "BRUTUS.\nO ye gods,\nRender me worthy of this noble wife!\n"


def test_the_shipped_lstm_loads_from_safetensors_with_its_vocabulary():
    folder = registry.scorer_source("shakespeare-lstm")
    model = lang.lstm()
    assert (char_lstm.Path(folder) / "model.safetensors").exists()
    assert model.config.vocab[0] == char_lstm.UNKNOWN and "e" in model.config.vocab
    assert model.encode("é") == [0]  # outside the plays' characters: unknown


def test_score_text_for_the_gpt_agrees_with_the_models_own_loss():
    model, tokenizer = lang.gpt()
    ids = lang._start(tokenizer) + tokenizer(TEXT, add_special_tokens=False)["input_ids"]
    x = torch.tensor([ids])
    with torch.no_grad():
        loss = model(x, labels=x).loss.item()  # the mean over every token after the first
    scored = lang.score_text(TEXT, "shakespeare-gpt")
    assert scored["nats_per_char"] == pytest.approx(loss * (len(ids) - 1) / len(TEXT), rel=1e-5)
    assert "".join(c for c, _ in scored["chars"]) == TEXT


def test_a_long_text_is_scored_token_by_token_once_each():
    text = (TEXT * 80)[:lang.MAX_CHARS]  # far more than the GPT's window of 256 tokens
    spans, losses = lang.gpt_token_losses(text)
    assert len(spans) == len(losses) > 256
    scored = lang.score_text(text, "shakespeare-gpt")
    assert sum(n for _, n in scored["chars"]) == pytest.approx(sum(losses), rel=1e-6)
    model, tokenizer = lang.gpt()  # the first window is one plain forward pass
    ids = lang._start(tokenizer) + tokenizer(text, add_special_tokens=False)["input_ids"]
    x = torch.tensor([ids[:256]])
    with torch.no_grad():
        direct = torch.nn.functional.cross_entropy(model(x).logits[0, :-1], x[0, 1:],
                                                   reduction="none")
    assert losses[:255] == pytest.approx(direct.tolist(), rel=1e-4, abs=1e-5)


def test_score_text_for_the_lstm_is_its_loss_on_each_character():
    model = lang.lstm()
    ids = torch.tensor([model.encode(char_lstm.START + TEXT)])
    with torch.no_grad():
        logits, _ = model(ids[:, :-1])
        losses = torch.nn.functional.cross_entropy(logits[0], ids[0, 1:], reduction="none")
    scored = lang.score_text(TEXT, "shakespeare-lstm")
    assert [n for _, n in scored["chars"]] == pytest.approx(losses.tolist(), rel=1e-5)
    assert scored["nats_per_char"] == pytest.approx(losses.mean().item(), rel=1e-5)
    # the module's own held-out measure, read in one pass, is the same figure
    assert char_lstm.nats_per_char(model, TEXT) == pytest.approx(scored["nats_per_char"],
                                                                 rel=1e-5)


def test_greedy_generation_equals_a_plain_loop_over_the_model():
    model = lang.lstm()
    text = list(lang.generate("ROMEO.\n", temperature=0, max_new_tokens=40, seed=0))[-1]
    ids = model.encode(char_lstm.START + "ROMEO.\n")
    out = []
    with torch.no_grad():
        for _ in range(40):  # no state carried: the whole text read again each time
            logits, _ = model(torch.tensor([ids]))
            ids.append(int(logits[0, -1].argmax()))
            out.append(model.config.vocab[ids[-1]])
    assert text == "".join(out)


def test_sampling_is_seeded_and_both_models_write_as_many_characters():
    a = list(lang.generate("ROMEO.\n", 1.0, 30, 5))[-1]
    b = list(lang.generate("ROMEO.\n", 1.0, 30, 5))[-1]
    c = list(lang.generate("ROMEO.\n", 1.0, 30, 6))[-1]
    assert a == b != c and len(a) == 30
    gpt = list(lang.continue_with_gpt("ROMEO.\n", 0.8, 30, 0))[-1]
    assert len(gpt) == 30


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("   \n", "empty"), (None, "empty"), (42, "must be a string"),
    ("x" * (lang.MAX_CHARS + 1), "at most 4,000"), ("\x00\x07", "control characters")])
def test_bad_texts_are_refused_with_a_sentence(text, message):
    with pytest.raises(ValueError, match=message):
        lang.score_text(text, "shakespeare-lstm")


@pytest.mark.parametrize("model", ["gpt2", "../weights/shakespeare-gpt", "", None, 3])
def test_only_the_allowed_models_score(model):
    with pytest.raises(ValueError, match="Unknown model"):
        lang.score_text(TEXT, model)


def test_a_long_prompt_keeps_its_end_and_bad_sampling_is_refused():
    assert len(list(lang.generate("x" * 100_000, 0, 2, 0))[-1]) == 2
    for bad in (dict(temperature=-1), dict(temperature=float("inf")), dict(max_new_tokens=0),
                dict(max_new_tokens=10 ** 6), dict(seed="one")):
        with pytest.raises(ValueError):
            lang.generate("ROMEO.", **{"temperature": 0.8, "max_new_tokens": 5, "seed": 0,
                                       **bad})


def test_step_times_time_both_layers_at_each_length():
    timed = lang.step_times(lengths=(8, 16), repeats=1)
    assert timed["lengths"] == [8, 16]
    assert all(t > 0 for t in timed["lstm"] + timed["transformer"])
    assert timed["parameters"]["lstm"] == 4 * (2 * 256 * 256 + 2 * 256)


def test_generation_builds_no_graph(monkeypatch):
    """A state carried from step to step with autograd on would keep every step's graph."""
    model = lang.lstm()
    seen = []
    forward = model.forward

    def watched(*args, **kwargs):
        seen.append(torch.is_grad_enabled())
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", watched)
    list(lang.generate("ROMEO.\n", 0.8, 5, 0))
    assert seen and not any(seen)


@pytest.mark.parametrize("text", ["\ufb2c" * 2000, "🙂" * 3001])
def test_a_text_too_long_once_normalised_or_in_bytes_is_refused(text):
    assert len(text) <= lang.MAX_CHARS
    with pytest.raises(ValueError, match="at most 4,000 characters and 12,000 bytes"):
        lang.score_text(text, "shakespeare-gpt")
    prompt, notice = lang.check_text(text * 3, "prompt", lang.MAX_PROMPT, keep="end")
    assert len(prompt.encode()) <= lang.MAX_BYTES and notice
