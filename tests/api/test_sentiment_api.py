"""The Sentiment endpoints through gradio_client."""

import pytest
from gradio_client.exceptions import AppError


def scores(label):
    return {c["label"]: c["confidence"] for c in label["confidences"]}


def test_classify_sentiment_is_a_label(client):
    label, message = client.predict(text="Not bad at all, actually quite enjoyable.",
                                    model="sentiment-minilm", api_name="/classify_sentiment")
    assert set(scores(label)) == {"positive", "negative"}
    assert label["label"] == "positive" and "Positive" in message
    label, _ = client.predict(text="I can't say I enjoyed it.", api_name="/classify_sentiment")
    assert label["label"] == "negative"


def test_explain_sentiment_is_highlighted_text(client):
    text = "Good acting, but a dull plot."
    pieces, shaded, why = client.predict(text=text, api_name="/explain_sentiment")
    assert "".join(p["token"] for p in pieces) == text
    words = {p["token"]: p["class_or_confidence"] for p in pieces if p["token"].strip()}
    assert words["dull"] < 0  # "dull" pushes towards negative
    assert "dull" in why and "np-word" in shaded
    assert max(abs(p["class_or_confidence"]) for p in pieces if p["token"].strip()) == 1.0


def test_compare_sentences_and_models(client):
    a_label, _, _, b_label, _, _ = client.predict(
        text_a="The acting was good.", text_b="The acting was not good.",
        api_name="/compare_sentences")
    assert a_label["label"] == "positive" and b_label["label"] == "negative"
    first, _, m1, second, _, m2 = client.predict(text="I loved it", api_name="/compare_models")
    assert "sentiment-minilm" in m1 and "sentiment-encoder" in m2


@pytest.mark.parametrize("text", ["", "   ", "\x00", None])
def test_empty_text_is_a_clear_error(client, text):
    for api in ("/classify_sentiment", "/explain_sentiment"):
        with pytest.raises(AppError, match="Type some text"):
            client.predict(text=text, api_name=api)


@pytest.mark.parametrize("text", ["🙂", "<script>alert('x')</script><b>bold</b>",
                                  "מצוין! great", "good\x07 film", "x" * 100_000],
                         ids=["emoji", "html", "rtl", "control", "100k"])
def test_odd_text_gets_an_answer(client, text):
    label, message = client.predict(text=text, api_name="/classify_sentiment")
    assert set(scores(label)) == {"positive", "negative"}
    pieces, _, _ = client.predict(text=text, api_name="/explain_sentiment")
    assert pieces
    if len(text) == 100_000:
        assert "first 20,000" in message


def test_unknown_model_is_refused(client):
    for model in ("distilbert/distilbert-base-uncased", "/etc/passwd", "http://x.y/model"):
        with pytest.raises(AppError, match="not in the list of choices|not available"):
            client.predict(text="good", model=model, api_name="/classify_sentiment")
    label, _ = client.predict(text="good", api_name="/classify_sentiment")
    assert label["label"] == "positive"
