"""models/gpt.py: the forward pass opened up, checked against the model and by hand.

Oracles: every shown piece recomposed by hand in numpy (LayerNorm, Q/K/V, the masked softmax,
the weighted sum, the projections, GELU, the residual stream, the unembedding) reproduces the
model's own logits; knock-outs match a copy of the model with that part's weights zeroed; the
weight counts match sum(p.numel()) of real modules and the notes' GPT-3 figures.
"""

import copy

import numpy as np
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from models import gpt as inside
from models import registry

TEXT = "ROMEO.\nBut soft, what light through yonder window breaks?"


@pytest.fixture(scope="module")
def gpt():
    return registry.load("generation")


@pytest.fixture(scope="module")
def t():
    return inside.trace(None, TEXT)


@pytest.fixture(scope="module")
def tiny():
    """A random GPT-2 unlike the bundled one: untied unembedding, a non-default MLP width,
    attention scaled by the inverse layer index (GPT-2's option), plain GELU."""
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=50, n_positions=32, n_embd=24, n_layer=3, n_head=4,
                        n_inner=40, tie_word_embeddings=False, activation_function="gelu",
                        scale_attn_by_inverse_layer_idx=True, attn_implementation="eager")
    return GPT2LMHeadModel(config).eval()


def layer_norm(x, ln):
    w, b = ln.weight.detach().numpy(), ln.bias.detach().numpy()
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + ln.eps) * w + b


def conv1d(x, layer):  # GPT-2's Conv1D: x @ W + b, W of shape (in, out)
    return x @ layer.weight.detach().numpy() + layer.bias.detach().numpy()


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def gelu(x, kind):
    if kind == "gelu":
        import math

        return 0.5 * x * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))  # gelu_new


def recompose(model, trace):
    """The whole forward pass by hand, checking each shown piece on the way; the logits."""
    c = model.config
    T, C, H = trace["shape"]["T"], c.n_embd, c.n_head
    d = C // H
    wte = model.transformer.wte.weight.detach().numpy()
    wpe = model.transformer.wpe.weight.detach().numpy()
    np.testing.assert_allclose(trace["token_embedding"], wte[trace["ids"]], atol=1e-6)
    np.testing.assert_allclose(trace["position_embedding"], wpe[:T], atol=1e-6)
    h = trace["token_embedding"] + trace["position_embedding"]
    np.testing.assert_allclose(trace["input"], h, atol=1e-6)
    mask = np.tril(np.ones((T, T), dtype=bool))
    assert (trace["mask"] == mask).all()
    for n, (block, shown) in enumerate(zip(model.transformer.h, trace["blocks"])):
        x = layer_norm(h, block.ln_1)
        np.testing.assert_allclose(shown["ln_1"], x, atol=1e-4)
        q, k, v = np.split(conv1d(x, block.attn.c_attn), 3, axis=-1)
        heads = [a.reshape(T, H, d).transpose(1, 0, 2) for a in (q, k, v)]  # (H, T, d)
        for name, a in zip("qkv", heads):
            np.testing.assert_allclose(shown[name], a, atol=1e-4)
        scale = 1 / np.sqrt(d) / ((n + 1) if c.scale_attn_by_inverse_layer_idx else 1)
        scores = heads[0] @ heads[1].transpose(0, 2, 1) * scale
        np.testing.assert_allclose(shown["scores"], scores, atol=1e-4)
        weights = softmax(np.where(mask, scores, -np.inf))
        np.testing.assert_allclose(shown["attention"], weights, atol=1e-5)
        out = weights @ heads[2]  # (H, T, d): the weighted sum of the values
        np.testing.assert_allclose(shown["heads"], out, atol=1e-4)
        attn = conv1d(out.transpose(1, 0, 2).reshape(T, C), block.attn.c_proj)
        np.testing.assert_allclose(shown["attn_out"], attn, atol=1e-4)
        h = h + attn
        np.testing.assert_allclose(shown["resid_attn"], h, atol=1e-4)
        x = layer_norm(h, block.ln_2)
        np.testing.assert_allclose(shown["ln_2"], x, atol=1e-4)
        pre = conv1d(x, block.mlp.c_fc)
        np.testing.assert_allclose(shown["mlp_pre"], pre, atol=1e-4)
        post = gelu(pre, c.activation_function)
        np.testing.assert_allclose(shown["mlp_post"], post, atol=1e-4)
        mlp = conv1d(post, block.mlp.c_proj)
        np.testing.assert_allclose(shown["mlp_out"], mlp, atol=1e-4)
        h = h + mlp
        np.testing.assert_allclose(shown["resid_mlp"], h, atol=1e-4)
    x = layer_norm(h, model.transformer.ln_f)
    np.testing.assert_allclose(trace["ln_f"], x, atol=1e-4)
    return x @ model.lm_head.weight.detach().numpy().T  # (T, V)


def model_logits(model, ids):
    with torch.no_grad():
        out = model(torch.tensor([ids]), output_attentions=True)
    return out.logits[0].numpy(), [a[0].numpy() for a in out.attentions]


def test_the_pieces_recomposed_by_hand_give_the_models_logits(gpt, t):
    logits, _ = model_logits(gpt.model, t["ids"])
    np.testing.assert_allclose(recompose(gpt.model, t), logits, atol=1e-4)
    np.testing.assert_allclose(t["logits"], logits, atol=1e-5)
    np.testing.assert_allclose(t["probs"].sum(-1), 1, atol=1e-5)


def test_the_same_on_a_different_gpt2(tiny):
    ids = [3, 14, 15, 9, 2, 6, 5, 35, 8, 9, 7]
    tokenizer = type("Ids", (), {"convert_ids_to_tokens": lambda self, ids: [str(i) for i in
                                                                            ids]})()
    trace = inside.trace_model(tiny, tokenizer, ids)
    logits, attentions = model_logits(tiny, ids)
    np.testing.assert_allclose(recompose(tiny, trace), logits, atol=1e-4)
    for shown, own in zip(trace["blocks"], attentions):
        np.testing.assert_allclose(shown["attention"], own, atol=1e-6)
    assert trace["shape"]["d_mlp"] == 40 and trace["shape"]["layers"] == 3


def test_the_shown_attention_is_output_attentions(gpt, t):
    _, attentions = model_logits(gpt.model, t["ids"])
    for shown, own in zip(t["blocks"], attentions):
        np.testing.assert_allclose(shown["attention"], own, atol=1e-6)
        assert np.all(np.triu(shown["attention"], 1) == 0)  # causal: nothing from the future


def test_shapes_are_labelled(t):
    s = inside.shapes(t)
    T = len(t["ids"])
    assert s["input"] == [T, 256] and s["block q"] == [8, T, 32]
    assert s["block scores"] == [8, T, T] and s["block mlp_post"] == [T, 1024]
    assert s["logits"] == [T, 4096] and s["causal mask"] == [T, T]


def test_view_of_one_position_layer_and_head(t):
    v = inside.view(t, 5, 2, 3, temperature=1.0)
    T = len(t["ids"])
    assert v["position"] == 5 and v["layer"] == 2 and v["head"] == 3
    assert np.array(v["qkv"]["q"]).shape == (T, 32)
    np.testing.assert_allclose(v["attention"], t["blocks"][1]["attention"][2], atol=1e-5)
    np.testing.assert_allclose(v["mlp_hidden"], t["blocks"][1]["mlp_post"][4], atol=5e-5)
    ps = [c["p"] for c in v["next_token"]]
    assert len(ps) == 10 and ps == sorted(ps, reverse=True)
    np.testing.assert_allclose(ps[0], t["probs"][4].max(), atol=1e-6)
    assert v["actual_next"]["id"] == t["ids"][5]
    assert inside.view(t)["position"] == T and inside.view(t)["actual_next"] is None


def test_temperature_is_the_generation_tabs(t):
    from models import generation

    cold = inside.view(t, None, 1, 1, temperature=0.5)["next_token"]
    probs = generation.filtered(torch.tensor(t["logits"][-1]), generation.Sampling(0.5))
    for c in cold:
        assert c["p"] == pytest.approx(float(probs[c["id"]]), abs=1e-6)
    greedy = inside.view(t, None, 1, 1, temperature=0)["next_token"]
    assert greedy[0]["p"] == 1.0 and greedy[1]["p"] == 0.0


def test_the_logit_lens_ends_with_the_models_own_output(gpt, t):
    logits, _ = model_logits(gpt.model, t["ids"])
    probs = softmax(logits.astype(np.float64))
    for split in (False, True):
        lens = inside.logit_lens(None, TEXT, split)
        n = 6 * (2 if split else 1) + 1
        assert len(lens["layers"]) == len(lens["top"]) == len(lens["final_rank"]) == n
        assert lens["layers"][0] == "embedding" and lens["layers"][-1] == "final"
        final = lens["top"][-1]
        assert [c["id"] for c in final] == probs.argmax(-1).tolist()
        np.testing.assert_allclose([c["p"] for c in final], probs.max(-1), atol=1e-5)
        assert lens["final_rank"][-1] == 1
        assert lens["final_token"]["id"] == int(probs[-1].argmax())
    # After each half: the "MLP" rows are the "after each block" rows.
    whole, halves = inside.logit_lens(None, TEXT, False), inside.logit_lens(None, TEXT, True)
    assert halves["top"][2::2] == whole["top"][1:]


def test_the_logit_lens_of_a_middle_layer_by_hand(gpt, t):
    lens = inside.logit_lens(None, TEXT, True)
    h = t["blocks"][2]["resid_attn"]  # after block 3's attention
    ln = gpt.model.transformer.ln_f
    probs = softmax(layer_norm(h, ln) @ gpt.model.lm_head.weight.detach().numpy().T)
    row = lens["top"][lens["layers"].index("block 3 attention")]
    assert [c["id"] for c in row] == probs.argmax(-1).tolist()


def knocked_copy(model, part, layer, head):
    """The same model with the part's weights zeroed: what a knock-out must equal."""
    m = copy.deepcopy(model)
    d = m.config.n_embd // m.config.n_head
    with torch.no_grad():
        if part == "head":  # the rows of the output projection that read this head
            m.transformer.h[layer - 1].attn.c_proj.weight[(head - 1) * d:head * d] = 0
        elif part == "mlp":
            m.transformer.h[layer - 1].mlp.c_proj.weight.zero_()
            m.transformer.h[layer - 1].mlp.c_proj.bias.zero_()
        else:
            m.transformer.wpe.weight.zero_()
    return m


@pytest.mark.parametrize("part, layer, head", [("head", 2, 3), ("mlp", 1, 1),
                                               ("positions", 1, 1)])
def test_a_knock_out_equals_the_model_with_that_part_zeroed(gpt, t, part, layer, head):
    result = inside.knock_out(None, TEXT, part, layer, head)
    before = softmax(model_logits(gpt.model, t["ids"])[0][-1].astype(np.float64))
    after = softmax(model_logits(knocked_copy(gpt.model, part, layer, head),
                                 t["ids"])[0][-1].astype(np.float64))
    assert [c["id"] for c in result["before"]] == np.argsort(-before)[:10].tolist()
    assert [c["id"] for c in result["after"]] == np.argsort(-after)[:10].tolist()
    np.testing.assert_allclose([c["p"] for c in result["after"]], np.sort(after)[::-1][:10],
                               atol=1e-5)
    chosen = result["chosen"]
    assert chosen["id"] == int(before.argmax())
    assert chosen["change"] == pytest.approx(after[chosen["id"]] - before[chosen["id"]],
                                             abs=1e-5)
    # The hooks are gone afterwards: the model answers as before.
    np.testing.assert_allclose(model_logits(gpt.model, t["ids"])[0], t["logits"], atol=1e-5)


def test_knocking_out_nothing_changes_nothing(gpt, t):
    # A head whose output projection already ignores it: zeroing it changes nothing at all.
    model = knocked_copy(gpt.model, "head", 4, 5)
    result = inside.knock_out_model(model, gpt.tokenizer, t["ids"], "head", 4, 5)
    assert result["before"] == result["after"] and result["chosen"]["change"] == 0
    assert result["total_variation"] == 0
    # And the untouched row of a knock-out is the plain model's distribution.
    result = inside.knock_out_model(gpt.model, gpt.tokenizer, t["ids"], "mlp", 6)
    plain = t["probs"][-1]
    np.testing.assert_allclose([c["p"] for c in result["before"]], np.sort(plain)[::-1][:10],
                               atol=1e-6)


def test_the_counts_add_up_to_the_real_modules(gpt):
    counts = inside.weight_counts()
    assert counts["bundled"]["all"]["weights"] == sum(p.numel() for p in
                                                      gpt.model.parameters())
    small = GPT2LMHeadModel(GPT2Config())  # GPT-2 small's modules, random weights, no download
    assert counts["gpt2-small"]["all"]["weights"] == sum(p.numel() for p in
                                                         small.parameters()) == 124_439_808
    assert counts["bundled"]["tied"] and counts["gpt2-small"]["tied"]
    assert counts["gpt2-small"]["categories"]["Unembedding"]["weights"] == 0
    # Q, K and V count one matrix per head; the output, up and down projections one per layer.
    assert counts["gpt2-small"]["categories"]["Query"] == {"weights": 12 * 768 * 768,
                                                          "matrices": 12 * 12}
    assert counts["gpt2-small"]["total"]["matrices"] == 12 * (3 * 12 + 3) + 1


def test_counting_from_the_shape_agrees_with_the_modules(gpt, tiny):
    for model in (gpt.model, tiny):
        c = model.config
        from_shape = inside.count_from_shape(
            n_layer=c.n_layer, d_model=c.n_embd, n_head=c.n_head, d_head=c.n_embd // c.n_head,
            d_mlp=c.n_inner or 4 * c.n_embd, vocab=c.vocab_size, n_ctx=c.n_positions,
            tied=model.lm_head.weight is model.transformer.wte.weight)
        from_modules = inside.count_modules(model)
        assert from_shape["categories"] == from_modules["categories"]
        assert from_modules["all"]["weights"] == sum(p.numel() for p in model.parameters())
    assert not inside.count_modules(tiny)["tied"]


def test_gpt3_is_exactly_the_notes_numbers():
    gpt3 = inside.weight_counts()["gpt3-175b"]
    assert gpt3["total"] == {"weights": 175_181_291_520, "matrices": 27_938}
    # Derived from the published shape, not typed in: 96 × (4 · 12288² + 2 · 12288 · 49152)
    # + 2 · 50257 · 12288 weights; 96 × (3 · 96 + 3) + 2 matrices.
    assert gpt3["total"]["weights"] == 96 * (4 * 12288**2 + 2 * 12288 * 49152) + 2 * 50257 * 12288
    assert gpt3["categories"]["Key"]["matrices"] == 96 * 96
    left_out = gpt3["all"]["weights"] - gpt3["total"]["weights"]
    assert left_out == (2048 * 12288 + (2 * 96 + 1) * 2 * 12288
                        + 96 * (3 * 12288 + 12288 + 49152 + 12288))


@pytest.mark.parametrize("kwargs, message", [
    (dict(text_in=""), "empty"),
    (dict(text_in="\x00\x07"), "control characters"),
    (dict(text_in=None), "Type some text"),
    (dict(text_in=42), "must be a string"),
    (dict(model_key="gpt2"), "not available"),
    (dict(model_key="../weights/shakespeare-gpt"), "not available"),
    (dict(model_key=["shakespeare-gpt"]), "one of the names"),
])
def test_bad_input_is_a_sentence(kwargs, message):
    args = {"model_key": None, "text_in": TEXT, **kwargs}
    with pytest.raises(ValueError, match=message):
        inside.trace(**args)


@pytest.mark.parametrize("args, message", [
    ((-1, 1, 1), "Position -1 does not exist"), ((99, 1, 1), "Position 99 does not exist"),
    ((1, 7, 1), "Layer 7 does not exist"), ((1, 1, 9), "Head 9 does not exist"),
    ((1.5, 1, 1), "whole number"), (("two", 1, 1), "whole number"), ((1, True, 1), "whole"),
    ((1, 1, float("nan")), "whole number"),
])
def test_out_of_range_is_a_sentence(t, args, message):
    with pytest.raises(ValueError, match=message):
        inside.view(t, *args)


def test_knock_out_refuses_unknown_parts():
    with pytest.raises(ValueError, match="must be one of head, mlp, positions"):
        inside.knock_out(None, TEXT, "everything", 1, 1)
    with pytest.raises(ValueError, match="Layer 7"):
        inside.knock_out(None, TEXT, "mlp", 7, 1)
    with pytest.raises(ValueError, match="split must be"):
        inside.logit_lens(None, TEXT, "yes")


def test_long_text_is_cut_to_the_context_and_said_so():
    t = inside.trace(None, "To be, or not to be. " * 200)
    assert len(t["ids"]) == 256
    assert any("only the first 256" in n for n in t["notices"])


def test_control_characters_are_removed_and_said_so():
    t = inside.trace(None, "ROMEO.\x00\x07 But soft")
    assert "\x00" not in "".join(t["tokens"])
    assert any("Control characters" in n for n in t["notices"])


def test_position_0_is_the_last(t):
    assert inside.view(t, 0)["position"] == len(t["ids"])


def test_requests_at_once_do_not_see_each_others_hooks(gpt, t):
    """The hooks are on the one model every tab shares: a knock-out in one thread must not
    touch a trace, a lens or a plain forward pass (a generation) in another."""
    from concurrent.futures import ThreadPoolExecutor

    plain = model_logits(gpt.model, t["ids"])[0]
    expected = {"mlp": inside.knock_out(None, TEXT, "mlp", 1), "positions": inside.knock_out(
        None, TEXT, "positions"), "head": inside.knock_out(None, TEXT, "head", 2, 3)}

    def job(n):
        kind = n % 5
        if kind == 0:
            return "plain", model_logits(gpt.model, t["ids"])[0]
        if kind == 1:
            return "trace", inside.trace(None, TEXT)["logits"]
        part = ("mlp", "positions", "head")[kind - 2]
        return part, inside.knock_out(None, TEXT, part, 1 if part == "mlp" else 2, 3)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(job, range(40)))
    for kind, value in results:
        if kind in ("plain", "trace"):
            np.testing.assert_allclose(value, plain, atol=1e-5)
        else:
            assert [c["id"] for c in value["after"]] == [c["id"] for c in
                                                         expected[kind]["after"]], kind


def test_a_hub_gpt2_opens_the_same_way(tmp_path, monkeypatch):
    """GPT-2 from the Hub (where the server allows it), run offline: a tiny random GPT-2 saved
    where a download would leave it, loaded by its Hub id through the registry."""
    import huggingface_hub.constants
    from test_registry import save_to_hub_cache, tiny_tokenizer

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("NP_HUB_MODELS", "1")
    registry.clear_cache()
    try:
        torch.manual_seed(1)
        model = GPT2LMHeadModel(GPT2Config(vocab_size=7, n_positions=16, n_embd=12, n_layer=2,
                                           n_head=3))
        save_to_hub_cache(tmp_path, "openai-community/gpt2", model, tiny_tokenizer())
        t = inside.trace("gpt2", "good movie bad movie good")
        assert t["model"] == "gpt2" and t["notices"] == []
        assert t["tokens"] == ["good", "movie", "bad", "movie", "good"]
        loaded = registry.load("generation", "gpt2")
        logits, _ = model_logits(loaded.model, t["ids"])
        np.testing.assert_allclose(recompose(loaded.model, t), logits, atol=1e-4)
        assert inside.shape("gpt2")["layers"] == 2 and inside.shape("gpt2")["heads"] == 3
        assert inside.most_layers_and_heads() == (12, 12)  # the sliders allow GPT-2 small's
        with pytest.raises(ValueError, match="Head 4 does not exist"):
            inside.view(t, 1, 1, 4)
    finally:
        registry.clear_cache()


def test_the_residual_stream_of_one_token(t):
    stream = inside.residual_stream(t, 3)
    assert len(stream["names"]) == stream["rows"].shape[0] == 2 * 6 + 2
    np.testing.assert_allclose(stream["rows"][0], t["input"][2])
    np.testing.assert_allclose(stream["rows"][3], t["blocks"][1]["resid_attn"][2])
    np.testing.assert_allclose(stream["rows"][-1], t["ln_f"][2])
    np.testing.assert_allclose(stream["norms"][-2], np.linalg.norm(t["blocks"][5]["resid_mlp"][2]),
                               rtol=1e-5)
