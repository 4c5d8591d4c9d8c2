"""Text in and tokens out, the same way for every language tab.

- `clean(text)` checks what a user (or any API client) sent and makes it safe to tokenise.
- `token_strings(tokenizer, ids)` turns token ids into strings a person can read: byte-level
  BPE's (GPT-2: "Ġ" stands for a leading space, an emoji is split into bytes) become the text
  they stand for; WordPiece's (BERT) stay as they are, "##" marking the rest of a word.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# A server-side cap on what is even tokenised: 1 MB of text would take seconds to tokenise and
# every model here reads at most a few hundred tokens of it anyway.
MAX_CHARS = 20_000


def clean(text, what: str = "text", keep: str = "end") -> tuple[str, str | None]:
    """(cleaned text, a notice or None). ValueError for what cannot be used.

    Control characters (NUL included) are dropped, except newline and tab; the text is
    normalised to NFC, so that "é" typed two ways is one token sequence. Text longer than
    MAX_CHARS keeps its `keep` part ("end" for a prompt, "start" for a sentence)."""
    if text is None:
        raise ValueError(f"Type some {what} first.")
    if not isinstance(text, str):
        raise ValueError(f"The {what} must be a string, not {type(text).__name__}.")
    notice = None
    if len(text) > MAX_CHARS:
        text = text[-MAX_CHARS:] if keep == "end" else text[:MAX_CHARS]
        notice = (f"The {what} was longer than {MAX_CHARS:,} characters: only its "
                  f"{'last' if keep == 'end' else 'first'} {MAX_CHARS:,} were read.")
    text = unicodedata.normalize("NFC", text)
    cleaned = "".join(c for c in text
                      if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    if not cleaned.strip():
        raise ValueError(f"Type some {what} first: it is empty"
                         + (" (control characters are ignored)." if text.strip() else "."))
    return cleaned, notice


@lru_cache(maxsize=1)
def _byte_level_chars() -> dict[str, int]:
    """GPT-2's table from the 256 byte values to printable characters, inverted: byte-level BPE
    writes each byte of the UTF-8 text as one of these characters ("Ġ" is the space byte)."""
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    chars, n = printable[:], 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(printable, chars)}


def token_strings(tokenizer, ids: list[int]) -> list[str]:
    """A readable string per token: the text it stands for. A token that is only part of a
    character (an emoji is 4 bytes, often several tokens) shows its bytes, as "<F0 9F>"."""
    raw = tokenizer.convert_ids_to_tokens(list(ids))
    table = _byte_level_chars()
    byte_level = any(type(d).__name__ == "ByteLevel"
                     for d in [getattr(getattr(tokenizer, "backend_tokenizer", None), "decoder",
                                       None)])
    out = []
    for token in raw:
        if byte_level and all(c in table for c in token):
            data = bytes(table[c] for c in token)
            try:
                out.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                out.append("<" + " ".join(f"{b:02X}" for b in data) + ">")
        else:  # WordPiece keeps its "##" (the rest of a word): it shows how words split
            out.append(token)
    return out
