"""models/tokens.py: tokenizers, the BPE replay, WordPiece, neighbours, maps and analogies,
checked against the tokenizers themselves and against brute force."""

import numpy as np
import pytest
from conftest import DATA

from models import registry, tokens

HELD_OUT = (DATA / "shakespeare_heldout.txt").read_text()


@pytest.mark.parametrize("key", ["shakespeare-gpt", "sentiment-encoder", "sentiment-minilm"])
def test_tokenize_is_the_tokenizers_own_encode(key):
    tok = registry.tokenizer(key)
    text = "ROMEO. O Romeo, Romeo! 😍 Café déjà vu.\nNew line\tand tab."
    result = tokens.tokenize(text, key)
    assert result["ids"] == tok.encode(text)
    assert result["tokens"] == tok.convert_ids_to_tokens(tok.encode(text))
    assert result["n_tokens"] == len(result["ids"]) and result["n_characters"] == len(text)
    assert len(result["shown"]) == len(result["bytes"]) == result["n_tokens"]


def test_bytes_are_shown_as_bytes():
    result = tokens.tokenize("😍", "shakespeare-gpt")
    assert all(result["bytes"]) and "".join(result["shown"]) == "<F0><9F><98><8D>"
    assert result["tokens"] == registry.tokenizer("shakespeare-gpt").convert_ids_to_tokens(
        result["ids"])


def test_long_text_is_cut_and_said_so():
    result = tokens.tokenize("a" * 5000, "sentiment-minilm")
    assert result["n_characters"] == tokens.MAX_CHARS and result["notices"]


def test_the_bpe_replay_ends_in_the_tokenizers_tokens_for_a_held_out_play():
    tok = registry.tokenizer("shakespeare-gpt")
    lines = [line for line in HELD_OUT.splitlines() if line.strip()][:300]
    for line in lines:
        result = tokens.bpe_steps(line, "shakespeare-gpt")
        own = tok.convert_ids_to_tokens(tok.encode(line, add_special_tokens=False))
        assert result["steps"][-1] == own, line
        assert len(result["steps"]) == len(result["merges"]) + 1
        # Merges are taken in the merge list's order: their ranks never go down.
        assert result["ranks"] == sorted(result["ranks"])


def test_the_replay_starts_from_single_bytes():
    result = tokens.bpe_steps("ROMEO. Romeo 😍", "shakespeare-gpt")
    assert len(result["steps"][0]) == len("ROMEO. Romeo 😍".encode())
    assert result["steps"][-1][:3] == ["ROM", "E", "O"] and "ĠRomeo" in result["steps"][-1]


def test_wordpiece_takes_the_longest_match_first():
    tok = registry.tokenizer("sentiment-minilm")
    text = "Unhappiness, ROMEO's misunderstanding of xqzv"
    result = tokens.wordpiece_steps(text, "sentiment-minilm")
    pieces = [p for w in result["words"] for p in w["pieces"]]
    assert pieces == tok.tokenize(text)
    vocab = tok.get_vocab()
    for w in result["words"]:  # no longer piece would have matched at any cut
        start = 0
        for p in w["pieces"]:
            body = p[2:] if p.startswith("##") else p
            if p == "[UNK]":
                break
            for end in range(len(w["word"]), start + len(body), -1):
                longer = ("##" if start else "") + w["word"][start:end]
                assert longer not in vocab, (w["word"], p, longer)
            start += len(body)


def test_the_wrong_kind_of_tokenizer_is_a_sentence():
    with pytest.raises(ValueError, match="WordPiece tokenizer: it has no merges"):
        tokens.bpe_steps("king", "sentiment-minilm")
    with pytest.raises(ValueError, match="BPE tokenizer"):
        tokens.wordpiece_steps("king", "shakespeare-gpt")


@pytest.mark.parametrize("model", list(tokens.MATRICES))
def test_neighbours_are_a_brute_force_cosine_over_the_whole_matrix(model):
    from safetensors.torch import load_file

    task, name = tokens.MATRICES[model]
    raw = load_file(f"{registry.spec(task, model).source}/model.safetensors")[name].float()
    raw = raw.numpy().astype(np.float64)
    i = tokens.token_of(model, "king")
    cos = raw @ raw[i] / (np.linalg.norm(raw, axis=1) * np.linalg.norm(raw[i]))
    cos[i] = -np.inf
    cos[~tokens._searchable(model)] = -np.inf
    expected = np.argsort(-cos)[:10].tolist()
    result = tokens.nearest_tokens("king", model, 10)
    assert [r["id"] for r in result] == expected
    np.testing.assert_allclose([r["cosine"] for r in result], cos[expected], atol=1e-5)


def test_words_the_vocabulary_lacks_are_a_sentence():
    with pytest.raises(ValueError, match="not one token"):
        tokens.nearest_tokens("antidisestablishmentarianism", "shakespeare-gpt", 5)
    with pytest.raises(ValueError, match="Type a word"):
        tokens.nearest_tokens("  ", "sentiment-minilm", 5)
    with pytest.raises(ValueError, match="k must be between 1 and 50"):
        tokens.nearest_tokens("king", "sentiment-minilm", 51)
    with pytest.raises(ValueError, match="no embedding matrix"):
        tokens.nearest_tokens("king", "gpt2", 5)


def test_the_map_is_the_top_two_principal_components():
    words = "king, queen, prince, princess; red, blue, green, yellow"
    result = tokens.embedding_map(words, "sentiment-minilm")
    x = tokens.matrix("sentiment-minilm")[result["ids"]].astype(np.float64)
    centred = x - x.mean(0)
    values, vectors = np.linalg.eigh(np.cov(centred.T))
    top = vectors[:, ::-1][:, :2]
    expected = centred @ top
    xy = np.array(result["xy"])
    for axis in range(2):  # up to sign
        sign = np.sign(xy[:, axis] @ expected[:, axis])
        np.testing.assert_allclose(xy[:, axis] * sign, expected[:, axis], atol=1e-4)
    share = values[::-1][:2] / values.sum()
    np.testing.assert_allclose(result["explained_variance"], share, atol=1e-5)
    assert result["groups"] == [0, 0, 0, 0, 1, 1, 1, 1]


@pytest.mark.parametrize("words, message", [
    ("king, queen", "3 to 60 words"), (", ".join(f"w{i}" for i in range(61)), "3 to 60"),
    ("king, queen, king", "appears twice"), ("", "Type some words"),
    ("king, queen, xqzvw", "Not single tokens"), (42, "Type some words"),
])
def test_bad_word_lists_are_sentences(words, message):
    with pytest.raises(ValueError, match=message):
        tokens.embedding_map(words, "sentiment-minilm")


@pytest.fixture(scope="module")
def sentences():
    from demos.tokens import SENTENCES

    return SENTENCES


@pytest.mark.parametrize("model", tokens.SENTENCE_MODELS)
def test_the_similarity_matrix_is_symmetric_with_a_unit_diagonal(sentences, model):
    result = tokens.sentence_map(sentences, model)
    sim = np.array(result["similarity"])
    n = len(result["sentences"])
    assert sim.shape == (n, n) and np.array_equal(sim, sim.T)
    assert np.all(np.diag(sim) == 1.0) and np.all(np.abs(sim) <= 1.0)
    assert np.array(result["xy"]).shape == (n, 2)


def test_pretrained_mean_pooling_is_sentence_transformers(sentences):
    """The pretrained map's vectors are what sentence-transformers itself makes of the same
    model (mean pooling, normalised)."""
    from sentence_transformers import SentenceTransformer

    lines = sentences.splitlines()[:4]
    reference = SentenceTransformer(str(tokens.pretrained_folder()), device="cpu").encode(
        lines, normalize_embeddings=True)
    ours = tokens.sentence_embeddings(lines, "pretrained")
    np.testing.assert_allclose(ours, reference, atol=1e-4)


def test_fine_tuning_pulls_sentences_apart_by_sentiment(sentences):
    """Before: films with films, food with food. After: positive with positive."""
    before = np.array(tokens.sentence_map(sentences, "pretrained")["similarity"])
    after = np.array(tokens.sentence_map(sentences, "fine-tuned")["similarity"])
    # 0: a film liked, 1: a film hated, 2: food liked, 3: food hated.
    assert before[0, 1] > before[0, 2]  # pretrained: same topic is closer
    assert after[0, 2] > after[0, 1] and after[1, 3] > after[1, 2]  # fine-tuned: same sentiment
    assert after[0, 2] - after[0, 1] > 0.5


def test_bad_sentences_and_models_are_sentences():
    with pytest.raises(ValueError, match="2 to 30 sentences"):
        tokens.sentence_map("only one", "pretrained")
    with pytest.raises(ValueError, match="must be one of pretrained, fine-tuned"):
        tokens.sentence_map("a\nb", "better")
    with pytest.raises(ValueError, match="one a line"):
        tokens.sentence_map(None, "pretrained")


def test_analogy_is_a_minus_b_plus_c_and_counted_honestly():
    result = tokens.analogy("king", "man", "woman", "sentiment-minilm", 5)
    e = tokens.matrix("sentiment-minilm")
    ids = [tokens.token_of("sentiment-minilm", w) for w in ("king", "man", "woman")]
    v = e[ids[0]] - e[ids[1]] + e[ids[2]]
    cos = e @ (v / np.linalg.norm(v))
    cos[ids] = -np.inf
    cos[~tokens._searchable("sentiment-minilm")] = -np.inf
    assert [r["id"] for r in result["results"]] == np.argsort(-cos)[:5].tolist()
    assert 0 < result["asked"] <= len(tokens.ANALOGIES)
    assert result["right"] == sum(x["right"] for x in result["examples"])


def test_unknown_tokenizers_are_refused():
    for key in ("gpt2-xl", "../../etc/passwd", None, 3):
        with pytest.raises(ValueError, match="not available"):
            tokens.tokenize("hello", key)
