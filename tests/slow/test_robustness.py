"""A catalogue of bad inputs sent through the public API to every endpoint. Each must get a
valid answer or a clear error (a sentence, not a Python internal), and the server must answer a
normal request right after."""

import functools

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

# Messages that betray an unhandled exception rather than a sentence written for the user.
INTERNAL = ("Traceback", "NoneType", "object is not", "object has no attribute", "Errno",
            "unsupported operand", "index out of range", "not subscriptable", "upstream Gradio")

NORMAL = {
    "/classify_digit": None,  # set in the fixture: needs a file
    "/plot_activations": dict(functions=["relu"], x_min=-3, x_max=3, show_derivatives=True,
                              alpha=0.1),
    "/softmax": dict(logits="1, 2, 3", temperature=1),
    "/neuron": dict(function="sigmoid", w=1, b=0, alpha=0.1),
    "/generate_text": dict(prompt="ROMEO.\n", temperature=0.8, max_new_tokens=3, top_k=40,
                           top_p=0.95, seed=0),
    "/next_token_distribution": dict(prompt="ROMEO.\n", temperature=1, top_k=0, top_p=1),
    "/step_token": dict(prompt="ROMEO.\n", temperature=1, top_k=0, top_p=1, seed=0),
    "/classify_sentiment": dict(text="good film"),
    "/explain_sentiment": dict(text="good film"),
    "/compare_sentences": dict(text_a="good", text_b="not good"),
    "/compare_models": dict(text="good"),
    "/attention_map": dict(text="the cat sat", model="sentiment-minilm", layer=1, head="mean"),
    "/attention_pair": dict(text="the cat sat", both=True),
    "/attention_csv": dict(text="the cat sat", model="sentiment-minilm", layer=1, head="2"),
    "/inside_gpt": dict(text="the cat sat", model="shakespeare-gpt", position=2, layer=1,
                        head=1, temperature=1),
    "/logit_lens": dict(text="the cat sat", model="shakespeare-gpt", split=False),
    "/knock_out": dict(text="the cat sat", model="shakespeare-gpt", part="head", layer=1,
                       head=1),
    "/weight_counts": dict(),
    "/tokenize": dict(text="the cat sat", tokenizer="shakespeare-gpt"),
    "/bpe_steps": dict(text="the cat sat", tokenizer="shakespeare-gpt"),
    "/wordpiece_steps": dict(text="the cat sat", tokenizer="sentiment-minilm"),
    "/nearest_tokens": dict(word="king", model="sentiment-minilm", k=5),
    "/embedding_map": dict(words="king, queen, red", model="sentiment-minilm"),
    "/sentence_map": dict(sentences="I liked it.\nIt was bad.", model="pretrained"),
    "/analogy": dict(a="king", b="man", c="woman", model="sentiment-minilm"),
    "/dream_digit": dict(digit=3, steps=20, seed=0),
    "/float_bits": dict(value="0.1", format="bf16"),
    "/quantize_numbers": dict(numbers="0.1, 3.2", bits=8, scheme="absmax"),
    "/quantize_model": dict(model="shakespeare-gpt", bits=8, scheme="absmax",
                            granularity="tensor"),
    "/ptq_vs_qat": dict(bits=3, dataset="xor"),
    "/descend": dict(surface="bowl", start_w1=1, start_w2=1, learning_rate=0.1, momentum=0,
                     steps=5),
    "/train_network": dict(dataset="circles", noise=0.05, layers="4", activation="tanh",
                           learning_rate=0.3, batch_size=10, steps=20, seed=0),
    "/backprop_step": dict(dataset="xor", noise=0.05, point=0, batch_size=4, learning_rate=1,
                           activation="tanh"),
    "/train_transformer": dict(task="repeat", layers=2, heads=2, steps=3, seed=0),
    "/unroll": dict(cell="gru", sequence="Aw?", hidden=2, seed=0),
    "/train_recurrent": dict(cell="lstm", delay=5, hidden=8, steps=3, seed=0, clip=0,
                             truncate=0, forget_bias=1),
    "/train_race": dict(cells=["rnn", "lstm"], delay=5, hidden=8, steps=3, seed=0),
    "/gradient_through_time": dict(cell="rnn", delay=10, seed=0, init_scale=2),
    "/score_text": dict(text="Friends, Romans", model="shakespeare-lstm"),
    "/score_both": dict(text="Friends, Romans"),
    "/lstm_generate": dict(prompt="ROMEO.\n", temperature=0.8, max_new_tokens=3, seed=0),
    "/gpt_continue": dict(prompt="ROMEO.\n", temperature=0.8, max_new_tokens=3, seed=0),
    "/train_gan_2d": dict(distribution="ring", steps=3, lr_generator=0.001,
                          lr_discriminator=0.001, d_steps=1, loss="minimax", seed=0),
    "/generate_digits": dict(n=2, seed=0, digit=None),
    "/walk_digits": dict(seed_a=0, seed_b=1, digit=3),
    "/digit_census": dict(seed=0),
    "/train_digit_gan": dict(steps=2, lr_generator=0.001, lr_discriminator=0.001, seed=0),
    "/transfer_learn": dict(examples=None, method="fine_tune", freeze=2, steps=2, augment=True,
                            seed=0, test_images=None),  # examples: set below (a model call)
    "/digit_confusion": dict(model="mlp"),
    "/confusion_examples": dict(model="mlp", true_digit=4, predicted_digit=9),
    "/sentiment_threshold": dict(threshold=0.5, model="sentiment-encoder"),
    "/open_set_threshold": dict(threshold=1.0),
    "/significance_test": dict(task="digits"),
    "/train_overfit": dict(n_train=50, epochs=2, weight_decay=0, dropout=0, augment=False,
                           seed=0),
}
NORMAL["/transfer_learn"]["examples"] = __import__("models.transfer").transfer.starter_examples(
    2, classes=("star", "A")).as_json()
STRINGS = ["", " ", "\x00", "\x00abc\x07", "🙂" * 50, "مرحبا بالعالم", "<script>alert(1)</script>",
           "x" * 1_000_000]
# gradio_client cannot send NaN or infinities (they are not JSON); tests/api/test_app.py sends them
# over raw HTTP.
NUMBERS = [None, 1e308, -1e308, -1, 0, 10**12, 2.5, "7", "seven", [1], {"a": 1}, True]


def png(tmp_path, name, image):
    path = tmp_path / name
    image.save(path)
    return str(path)


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    data = np.load(__import__("conftest").DATA / "mnist_heldout.npz")
    path = tmp_path_factory.mktemp("img") / "digit.png"
    Image.fromarray(255 - data["images"][0]).resize((280, 280)).save(path)
    return str(path)


def sketch(path):
    return {"background": handle_file(path), "layers": [], "composite": None}


def check(client, api, kwargs=None, args=None):
    """Send a request; a valid answer or a clear error are both fine. Returns the answer or
    the error's text."""
    try:
        return client.predict(*(args or []), **(kwargs or {}), api_name=api)
    except AppError as e:
        message = str(e)
        # gradio's own refusal of a value a component cannot take names the component and what
        # it expected ("Expected a `float`, but the value passed ... was: None"): clear enough.
        clear = ("Could not preprocess input component" in message and "Expected" in message
                 or "is not in the list of choices" in message
                 or "validation error for EditorData" in message)
        assert clear or (message.strip() and not any(bad in message for bad in INTERNAL)), (
            api, {k: str(v)[:40] for k, v in (kwargs or {}).items()}, message[:300])
        return message


def still_normal(client, digit_png, api):
    kwargs = NORMAL[api] if api != "/classify_digit" else None
    args = [sketch(digit_png)] if api == "/classify_digit" else None
    out = client.predict(*(args or []), **(kwargs or {}), api_name=api)
    assert out is not None


TEXT_FIELDS = [("/generate_text", "prompt"), ("/next_token_distribution", "prompt"),
               ("/step_token", "prompt"), ("/classify_sentiment", "text"),
               ("/explain_sentiment", "text"), ("/compare_sentences", "text_a"),
               ("/compare_models", "text"), ("/attention_map", "text"),
               ("/attention_pair", "text"), ("/attention_csv", "text"), ("/softmax", "logits"),
               ("/inside_gpt", "text"), ("/logit_lens", "text"), ("/knock_out", "text"),
               ("/knock_out", "part"), ("/logit_lens", "split"),
               ("/tokenize", "text"), ("/tokenize", "tokenizer"), ("/bpe_steps", "text"),
               ("/wordpiece_steps", "text"), ("/nearest_tokens", "word"),
               ("/nearest_tokens", "model"), ("/embedding_map", "words"),
               ("/sentence_map", "sentences"), ("/sentence_map", "model"), ("/analogy", "b"),
               ("/float_bits", "value"), ("/float_bits", "format"),
               ("/quantize_numbers", "numbers"), ("/quantize_numbers", "scheme"),
               ("/quantize_model", "model"), ("/quantize_model", "granularity"),
               ("/ptq_vs_qat", "dataset"),
               ("/train_network", "layers"), ("/train_network", "learning_rate"),
               ("/train_network", "dataset"), ("/train_network", "features"),
               ("/train_network", "regularization"), ("/train_network", "problem"),
               ("/train_network", "optimizer"), ("/train_network", "loss"),
               ("/train_network", "points"), ("/train_network", "activation"),
               ("/train_transformer", "task"), ("/descend", "surface"),
               ("/backprop_step", "activation"),
               ("/unroll", "cell"), ("/unroll", "sequence"), ("/train_recurrent", "cell"),
               ("/train_race", "cells"), ("/gradient_through_time", "cell"),
               ("/score_text", "text"), ("/score_text", "model"), ("/score_both", "text"),
               ("/lstm_generate", "prompt"), ("/gpt_continue", "prompt"),
               ("/train_gan_2d", "distribution"), ("/train_gan_2d", "loss"),
               ("/train_gan_2d", "points"), ("/generate_digits", "digit"),
               ("/walk_digits", "digit"), ("/transfer_learn", "method"),
               ("/transfer_learn", "examples"), ("/transfer_learn", "test_images"),
               ("/digit_confusion", "model"), ("/confusion_examples", "model"),
               ("/sentiment_threshold", "model"), ("/significance_test", "task")]


@pytest.mark.parametrize("api, field", TEXT_FIELDS)
def test_odd_and_enormous_text(client, digit_png, api, field):
    for value in STRINGS + [None, 42, ["a", "list"], {"a": "dict"}]:
        check(client, api, {**NORMAL[api], field: value})
    still_normal(client, digit_png, api)


NUMBER_FIELDS = [("/generate_text", f) for f in ("temperature", "max_new_tokens", "top_k",
                                                  "top_p", "seed")] + [
    ("/next_token_distribution", "temperature"), ("/step_token", "seed"),
    ("/softmax", "temperature"), ("/plot_activations", "x_min"), ("/plot_activations", "alpha"),
    ("/neuron", "w"), ("/attention_map", "layer"), ("/attention_map", "head")] + [
    ("/inside_gpt", f) for f in ("position", "layer", "head", "temperature")] + [
    ("/knock_out", "layer"), ("/knock_out", "head"), ("/nearest_tokens", "k"),
    ("/float_bits", "value"), ("/quantize_numbers", "bits"), ("/quantize_model", "bits"),
    ("/dream_digit", "digit"), ("/dream_digit", "steps"), ("/dream_digit", "seed"),
    ("/ptq_vs_qat", "bits")] + [
    ("/descend", f) for f in ("start_w1", "learning_rate", "momentum", "steps")] + [
    ("/train_network", f) for f in ("noise", "learning_rate", "batch_size", "steps", "seed",
                                    "regularization_rate", "train_share", "dropout", "momentum",
                                    "beta1", "beta2")] + [
    ("/train_transformer", f) for f in ("layers", "heads", "steps", "seed")] + [
    ("/backprop_step", f) for f in ("point", "batch_size", "learning_rate")] + [
    ("/unroll", "hidden"), ("/unroll", "seed")] + [
    ("/train_recurrent", f) for f in ("delay", "hidden", "steps", "seed", "clip", "truncate",
                                      "forget_bias")] + [
    ("/train_race", "delay"), ("/train_race", "steps")] + [
    ("/gradient_through_time", f) for f in ("delay", "seed", "init_scale")] + [
    ("/lstm_generate", f) for f in ("temperature", "max_new_tokens", "seed")] + [
    ("/gpt_continue", "max_new_tokens")] + [
    ("/train_gan_2d", f) for f in ("steps", "lr_generator", "lr_discriminator", "d_steps",
                                   "seed")] + [
    ("/generate_digits", f) for f in ("n", "seed", "digit")] + [
    ("/walk_digits", "seed_a"), ("/walk_digits", "seed_b"), ("/digit_census", "seed")] + [
    ("/train_digit_gan", f) for f in ("steps", "lr_generator", "lr_discriminator", "seed")] + [
    ("/transfer_learn", f) for f in ("freeze", "steps", "seed", "augment")] + [
    ("/confusion_examples", "true_digit"), ("/confusion_examples", "predicted_digit"),
    ("/sentiment_threshold", "threshold"), ("/open_set_threshold", "threshold")] + [
    ("/train_overfit", f) for f in ("n_train", "epochs", "weight_decay", "dropout", "augment",
                                    "seed")]


@pytest.mark.parametrize("api, field", NUMBER_FIELDS)
def test_wrong_numbers(client, digit_png, api, field):
    for value in NUMBERS:
        if field == "steps" and value is None and api in (
                "/train_transformer", "/train_recurrent", "/train_race", "/train_gan_2d",
                "/train_digit_gan", "/transfer_learn"):
            continue  # the default budget, a Play of many seconds: tests/unit test it
        check(client, api, {**NORMAL[api], field: value})
    still_normal(client, digit_png, api)


@pytest.mark.parametrize("api, field", [
    ("/generate_text", "model"), ("/next_token_distribution", "model"),
    ("/classify_sentiment", "model"), ("/attention_map", "model"), ("/inside_gpt", "model"),
    ("/logit_lens", "model"), ("/knock_out", "model"), ("/score_text", "model"),
    ("/digit_confusion", "model"), ("/sentiment_threshold", "model")])
def test_model_keys_that_are_not_allowed(client, digit_png, api, field):
    for value in ["gpt2-xl", "openai-community/gpt2", "../../etc/passwd", "/etc/passwd",
                  "https://example.com/model.bin", "", None, 3]:
        answer = check(client, api, {**NORMAL[api], field: value})
        if value is not None:  # None falls back to the default model
            assert isinstance(answer, str), (api, value, answer)
    still_normal(client, digit_png, api)


def images(tmp_path):
    """Pictures of every mode, broken and empty files, and a 10,000 x 10,000 one."""
    base = Image.new("L", (280, 280), 255)
    base.paste(0, (130, 40, 150, 240))  # a 1
    out = {mode: png(tmp_path, f"mode-{mode}.png" if mode not in ("CMYK",) else "c.tiff",
                     base.convert(mode))
           for mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16", "F", "CMYK")
           if mode != "F"}
    out["F"] = png(tmp_path, "f.tiff", base.convert("F"))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 100)
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image at all")
    huge = Image.new("L", (10_000, 10_000), 255)
    out["huge"] = png(tmp_path, "huge.png", huge)
    out["tiny"] = png(tmp_path, "tiny.png", Image.new("RGB", (1, 1)))
    for name in ("broken.png", "empty.png", "text.png"):
        out[name] = str(tmp_path / name)
    return out


def test_every_kind_of_picture(client, digit_png, tmp_path):
    for name, path in images(tmp_path).items():
        for value in (sketch(path), {"background": None, "layers": [handle_file(path)],
                                     "composite": None},
                      {"background": None, "layers": [], "composite": handle_file(path)}):
            answer = check(client, "/classify_digit", args=[value])
            if not isinstance(answer, str):
                assert isinstance(answer[1], str) and answer[1], name
        still_normal(client, digit_png, "/classify_digit")


@pytest.mark.parametrize("api", ["/classify_digit", "/digit_layers", "/digit_saliency"])
def test_wrong_sketch_values(client, digit_png, api):
    for value in [None, "a string", 5, [], {}, {"background": "/etc/passwd", "layers": [],
                                                "composite": None},
                  {"background": None, "layers": None, "composite": None},
                  {"background": None, "layers": ["/etc/passwd"], "composite": None}]:
        check(client, api, args=[value])
    still_normal(client, digit_png, "/classify_digit")
    assert client.predict(sketch(digit_png), api_name=api) is not None


def test_every_kind_of_picture_and_label_as_transfer_examples(client, digit_png, tmp_path):
    good = NORMAL["/transfer_learn"]["examples"]
    for path in images(tmp_path).values():
        examples = [*good[:3], {"label": "A", "image": handle_file(path)}]
        check(client, "/transfer_learn", {**NORMAL["/transfer_learn"], "examples": examples})
        check(client, "/transfer_learn", {**NORMAL["/transfer_learn"],
                                          "test_images": [handle_file(path)]})
    for label in STRINGS + [None, 42, ["a"], {"a": 1}, True]:
        check(client, "/transfer_learn", {**NORMAL["/transfer_learn"],
                                          "examples": [*good[:3], {"label": label,
                                                                   "image": good[3]["image"]}]})
    for image in [None, 5, "x", [], [[0.5] * 28] * 28 + [[0.5] * 28], [[[0.5]] * 28] * 28,
                  [[0.5] * 10_000] * 28, {"path": "/etc/passwd"}, {"path": None},
                  "data:image/png;base64," + "A" * 4_000_000]:
        check(client, "/transfer_learn", {**NORMAL["/transfer_learn"],
                                          "examples": [*good[:3], {"label": "A",
                                                                   "image": image}]})
    still_normal(client, digit_png, "/transfer_learn")


def test_wrong_function_lists(client, digit_png):
    for value in [None, "relu", ["relu"] * 100, ["nope"], [None], [1, 2], {"relu": 1}]:
        check(client, "/plot_activations", {**NORMAL["/plot_activations"], "functions": value})
    for value in [None, "nope", 5, ["relu"]]:
        check(client, "/neuron", {**NORMAL["/neuron"], "function": value})
    still_normal(client, digit_png, "/plot_activations")


# -- what a hostile visitor tried (issue 27) --------------------------------------------------

MARKUP = '<a href="//evil.example">Log in again</a><form action="//e.x"><input name="pw"></form>'


def png_header(path, width, height):
    """A PNG that claims width x height pixels and holds none: what the server reads before
    deciding to decode (a real 12,000 x 12,000 one is in tests/benchmarks/bench_hostile.py)."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return str(path)


@pytest.mark.parametrize("api", ["/classify_digit", "/digit_layers", "/digit_saliency"])
def test_a_huge_picture_is_refused_before_it_is_decoded(client, digit_png, tmp_path, api):
    huge = png_header(tmp_path / "huge.png", 12_000, 12_000)
    message = check(client, api, args=[sketch(png_header(tmp_path / "bomb.png", 30_000, 30_000))])
    assert isinstance(message, str) and "far more than 4,000,000 pixels" in message, message
    for value in (sketch(huge), {"background": None, "layers": [handle_file(huge)],
                                 "composite": None},
                  {"background": None, "layers": [], "composite": handle_file(huge)}):
        message = check(client, api, args=[value])
        assert isinstance(message, str) and "12,000 × 12,000 pixels" in message, message
    assert client.predict(sketch(digit_png), api_name=api) is not None


def test_a_drawing_has_few_layers(client, digit_png):
    message = check(client, "/classify_digit", args=[
        {"background": None, "layers": [handle_file(digit_png)] * 5, "composite": None}])
    assert isinstance(message, str) and "at most 3 layers" in message
    # Three layers are fine.
    answer = client.predict({"background": None, "layers": [handle_file(digit_png)] * 3,
                             "composite": None}, api_name="/classify_digit")
    assert "0" in answer[1]


@pytest.mark.parametrize("api, field", TEXT_FIELDS)
def test_markup_sent_comes_back_as_text(client, digit_png, api, field):
    """A message quoting what a client sent is escaped: gradio renders it as HTML."""
    answer = check(client, api, {**NORMAL[api], field: MARKUP})
    if isinstance(answer, str) and "evil.example" in answer:
        assert "<a " not in answer and "<form" not in answer and "&lt;a " in answer, answer


@pytest.mark.parametrize("model", ["sentiment-minilm", "sentiment-encoder"])
def test_long_texts_for_every_sentiment_model(client, model):
    text = "the film was long but good " * 30  # past the encoder's 128 positions
    label, message = client.predict(text=text, model=model, api_name="/classify_sentiment")
    assert label["label"] in ("positive", "negative")
    assert ("reads only the first 128" in message) == (model == "sentiment-encoder"), message
    highlights, _, why = client.predict(text=text, model=model, api_name="/explain_sentiment")
    assert why.startswith("Words that moved it most")
    answers = client.predict(text_a=text, text_b="good", model=model,
                             api_name="/compare_sentences")
    assert len(answers) == 6
    attention_map = client.predict(**{**NORMAL["/attention_map"], "text": text, "model": model},
                                   api_name="/attention_map")
    assert attention_map is not None
    if model == "sentiment-encoder":
        assert len(client.predict(text=text, api_name="/compare_models")) == 6


def test_oversized_uploads_and_requests_are_refused(app_url, client, digit_png):
    import httpx

    with httpx.Client(timeout=30) as http:
        upload = http.post(f"{app_url}/gradio_api/upload",
                           files={"files": ("evil.exe", b"MZ" + b"\0" * 6_000_000)})
        assert upload.status_code == 413
        body = b'{"data": ["' + b"1, " * 3_000_000 + b'", 1]}'  # 9 MB
        call = http.post(f"{app_url}/gradio_api/call/softmax", content=body,
                         headers={"content-type": "application/json"})
        assert call.status_code == 413 and "larger than" in call.text
        small = http.post(f"{app_url}/gradio_api/upload",
                          files={"files": ("d.png", open(digit_png, "rb").read())})
        assert small.status_code == 200
    still_normal(client, digit_png, "/classify_digit")


@functools.cache
def sketchpad_id(url: str) -> int:
    """The Digits Sketchpad's component id in the app served at url."""
    import httpx

    config = httpx.get(f"{url}/config", timeout=30).json()
    return next(c["id"] for c in config["components"]
                if c.get("props", {}).get("elem_id") == "digit-sketchpad")


def accept_blob(http, url: str, index: str, id_: str, blob: bytes):
    """The browser's upload of a drawing's layer (the Digits Sketchpad's accept_blobs server
    function), as any client could send it."""
    return http.post(f"{url}/gradio_api/component_server/", data={
        "component_id": str(sketchpad_id(url)), "session_hash": "test", "fn_name": "accept_blobs",
        "type": "layer", "index": index, "id": id_}, files={"file": ("blob", blob)})


def test_a_drawings_layer_index_is_bounded(app_url, client, digit_png):
    """The browser uploads its drawing through the Sketchpad's accept_blobs; gradio's own
    extended a list to any index a client named (10^9: gigabytes)."""
    import httpx

    with httpx.Client(timeout=30) as http:
        blob = open(digit_png, "rb").read()
        assert accept_blob(http, app_url, str(10**9), "t", blob).status_code == 400
        assert accept_blob(http, app_url, "-1", "t", blob).status_code == 400
        assert accept_blob(http, app_url, "0", "t", blob).status_code == 200
    still_normal(client, digit_png, "/classify_digit")
