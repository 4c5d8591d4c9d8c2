"""The character-level LSTM trained here on Shakespeare (models/training/train_shakespeare_lstm.py),
the recurrent network the tab sets beside the GPT (models/recurrent/language.py uses it).

`CharLSTM` reads like nanoGPT's model: an embedding of each character, a stacked torch LSTM, a
linear head to the next character's logits. Its config (`LSTMConfig`, with the vocabulary) is
stored next to the weights, so `load()` rebuilds it from the folder alone. Index 0 of the
vocabulary stands for any character the plays never used. This module imports torch: the app
imports it only when the LSTM is first needed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "shakespeare-lstm"
UNKNOWN = "\x00"  # index 0: any character outside the vocabulary
START = "\n"  # what the LSTM reads before a text's first character (a text starts a new line)


@dataclass
class LSTMConfig:
    vocab: str  # the characters, index = position; vocab[0] is UNKNOWN
    n_embd: int = 64
    n_hidden: int = 512
    n_layer: int = 2
    dropout: float = 0.2


class CharLSTM(nn.Module):
    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.config = config
        self.index = {c: i for i, c in enumerate(config.vocab)}
        self.embed = nn.Embedding(len(config.vocab), config.n_embd)
        self.lstm = nn.LSTM(config.n_embd, config.n_hidden, config.n_layer, batch_first=True,
                            dropout=config.dropout if config.n_layer > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.n_hidden, len(config.vocab))

    def encode(self, text: str) -> list[int]:
        return [self.index.get(c, 0) for c in text]

    def forward(self, idx: torch.Tensor, state=None):
        """idx (B, T) character indices -> logits (B, T, vocab), and the (h, c) state after."""
        x = self.embed(idx)  # (B, T, n_embd)
        out, state = self.lstm(x, state)  # (B, T, n_hidden)
        return self.head(self.drop(out)), state

    def save(self, folder: Path) -> None:
        from safetensors.torch import save_file
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.state_dict().items()},
                  folder / "model.safetensors")
        (folder / "config.json").write_text(json.dumps(asdict(self.config), indent=1) + "\n")


def from_folder(folder: Path) -> CharLSTM:
    from safetensors.torch import load_file
    config = LSTMConfig(**json.loads((folder / "config.json").read_text()))
    model = CharLSTM(config)
    model.load_state_dict(load_file(folder / "model.safetensors"))
    return model.eval()


@torch.no_grad()
def nats_per_char(model: CharLSTM, text: str, streams: int = 1, chunk: int = 1024) -> float:
    """The mean loss over every character of `text`, each read with all the text before it
    (the state is carried from chunk to chunk). With `streams` > 1 the text is cut into that many
    stretches read side by side (faster; each stretch starts from START, without what preceded
    it), for the validation figures while training."""
    model.eval()
    n = len(text) // streams
    pieces = [text[i * n:(i + 1) * n] for i in range(streams)]
    ids = torch.tensor([model.encode(START + piece) for piece in pieces])  # (S, n + 1)
    total, state = 0.0, None
    for start in range(0, n, chunk):
        x = ids[:, start:min(start + chunk, n)]  # (S, T)
        y = ids[:, start + 1:min(start + chunk, n) + 1]
        logits, state = model(x, state)  # (S, T, vocab)
        total += nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten(),
                                             reduction="sum").item()
    return total / (n * streams)
