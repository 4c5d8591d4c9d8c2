"""models/registry.py: the allowlist, the server's switch, the Hub code path and the fallback.

The Hub path runs end to end, offline: tiny models are saved with save_pretrained into a
Hugging Face cache laid out as a download would leave it, and loaded by their real Hub ids.
"""

import pytest
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedTokenizerFast,
)

from models import registry


@pytest.fixture(autouse=True)
def fresh_cache():
    registry.clear_cache()
    yield
    registry.clear_cache()


def tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "good": 4, "bad": 5, "movie": 6}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", bos_token="[CLS]",
                                   eos_token="[SEP]")


def save_to_hub_cache(cache, repo_id, model, tokenizer):
    """Lay out files as huggingface_hub's cache does after downloading `repo_id`."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    model.save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("NP_HUB_MODELS", "1")
    return tmp_path


def test_hub_models_are_off_by_default_and_on_for_a_space(monkeypatch):
    monkeypatch.delenv("NP_HUB_MODELS", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert [s.key for s in registry.available("generation")] == ["shakespeare-gpt"]
    assert [s.key for s in registry.available("sentiment")] == ["sentiment-minilm",
                                                                "sentiment-encoder"]
    monkeypatch.setenv("SPACE_ID", "someone/neural-playground")
    assert [s.key for s in registry.available("generation")] == [
        "shakespeare-gpt", "gpt2", "distilgpt2"]
    assert registry.available("sentiment")[-1].key == "distilbert-sst2"
    monkeypatch.setenv("NP_HUB_MODELS", "0")  # the server can say no even on a Space
    assert len(registry.available("sentiment")) == 2


@pytest.mark.parametrize("key", ["gpt2", "openai-community/gpt2", "../../etc/passwd",
                                 "evil/model", ""])
def test_the_allowlist_refuses_everything_else(monkeypatch, key):
    monkeypatch.setenv("NP_HUB_MODELS", "0")
    with pytest.raises(ValueError, match="not available"):
        registry.load("generation", key)


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="Unknown task"):
        registry.available("vision")


def test_hub_generation_model_loads_by_its_hub_id(hub_cache):
    torch.manual_seed(0)
    tiny = GPT2LMHeadModel(GPT2Config(vocab_size=7, n_positions=16, n_embd=8, n_layer=1,
                                      n_head=2))
    save_to_hub_cache(hub_cache, "openai-community/gpt2", tiny, tiny_tokenizer())
    loaded = registry.load("generation", "gpt2")
    assert loaded.notice is None and loaded.spec.source == "openai-community/gpt2"
    assert loaded.model.config.n_embd == 8
    assert loaded.model.config._attn_implementation == "eager"
    ids = loaded.tokenizer("good movie", return_tensors="pt")["input_ids"]
    out = loaded.model(ids, output_attentions=True)
    assert out.logits.shape == (1, 2, 7) and out.attentions[0].shape == (1, 2, 2, 2)
    assert registry.load("generation", "gpt2") is loaded  # cached


def test_hub_sentiment_model_loads_by_its_hub_id(hub_cache):
    tiny = BertForSequenceClassification(BertConfig(
        vocab_size=7, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=16, max_position_embeddings=16, num_labels=2,
        id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1}))
    save_to_hub_cache(hub_cache, "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
                      tiny, tiny_tokenizer())
    loaded = registry.load("sentiment", "distilbert-sst2")
    assert loaded.notice is None and loaded.model.config.id2label[1] == "POSITIVE"


def test_a_failing_hub_download_falls_back_to_the_bundled_model(hub_cache):
    # Nothing in the cache and HF_HUB_OFFLINE=1: the download fails.
    loaded = registry.load("generation", "distilgpt2")
    assert loaded.spec.key == "shakespeare-gpt" and loaded.spec.bundled
    assert "distilbert/distilgpt2" in loaded.notice and "bundled" in loaded.notice
    ids = loaded.tokenizer("ROMEO.\n", return_tensors="pt")["input_ids"]
    assert loaded.model(ids).logits.shape[-1] == len(loaded.tokenizer)


def test_importing_the_registry_does_not_import_transformers():
    import subprocess
    import sys

    code = "import sys, models.registry; print('transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=registry.WEIGHTS.parents[1], check=True)
    assert out.stdout.strip() == "False"


def test_after_a_failure_the_hub_is_not_retried_on_every_request(hub_cache, monkeypatch):
    first = registry.load("generation", "distilgpt2")
    monkeypatch.setattr(registry, "_from_pretrained", lambda s: pytest.fail("retried too soon"))
    again = registry.load("generation", "distilgpt2")
    assert again.notice == first.notice and again.model is first.model
