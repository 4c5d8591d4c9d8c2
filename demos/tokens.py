"""The Tokens & embeddings tab: how text becomes numbers, and why similar words end up near
each other. Figures take plain lists from models/tokens.py, never models."""

from __future__ import annotations

import html

import gradio as gr

from demos import Demo, plots
from demos.messages import fail
from models import tokens

TEXT = "ROMEO. O Romeo, Romeo! wherefore art thou Romeo? 😍 Café déjà vu."
MAP_EXAMPLES = {
    "royalty, family": "king, queen, prince, princess, throne; mother, father, sister, "
                       "brother, daughter, son",
    "colours, numbers, feelings": "red, blue, green, yellow, purple; one, two, three, four, "
                                  "five; happy, sad, angry, afraid, joy",
    "Shakespeare's names": "romeo, juliet, hamlet, macbeth, othello; london, paris, rome, "
                           "venice, verona",
}
SENTENCES = """The film was a delight from start to finish.
I hated every minute of that movie.
The pasta at this restaurant is superb.
The food was cold and the waiter was rude.
My new phone's battery lasts all week.
This laptop broke after two days.
The concert last night was unforgettable.
The band played badly and the sound was awful."""

INTRO = """### Tokens & embeddings: how text becomes numbers
A model never sees letters. "Each little chunk is known as a **token**", and "each token is
associated to a **vector**": a row of numbers in the model's embedding matrix. "If we think of
these vectors in a high-dimensional space, words with similar meaning are near each other."
Type, and see each of the app's tokenizers cut your text; watch byte-pair encoding build a
word merge by merge; then look at the vectors."""

BPE_NOTE = """**Byte-pair encoding** (the GPT's tokenizer) starts from single bytes and, again and
again, glues together the pair that comes first in its **merge list**: a list learned from
Shakespeare, most frequent pairs first. Common words end as one token; rare ones stay in pieces.
That is why " Romeo" (with its space, as it stands in a sentence) is one token, while "ROMEO"
in capitals, a speaker's name, is three: "ROM" + "E" + "O" (the capitalised pairs were too rare
to earn merges). A token is bytes, not letters: an emoji is four bytes, shown as `<F0>` …
until merges make them whole."""

WORDPIECE_NOTE = """**WordPiece** (BERT, MiniLM) works the other way round: it lower-cases, splits
off punctuation, then cuts each word from the left, always taking the **longest piece** in its
vocabulary (`##` marks a piece that continues a word)."""

NEIGHBOURS_NOTE = """Each token's row of the **input embedding matrix** is a vector (384 numbers
for MiniLM, 256 for the GPT). Two tokens are *near* when their vectors point the same way:
**cosine similarity** 1 = the same direction, 0 = unrelated. All the vocabulary's similarities
to your word come from one matrix product."""

MAP_NOTE = """Hundreds of dimensions cannot be drawn, so the words' vectors are projected on
the two directions along which they vary most (**PCA**): the share of the variance the two
axes keep is shown; what they leave out is lost from the picture, not from the model.
Semicolons separate groups, each coloured."""

SENTENCE_NOTE = """Embeddings "encode the tokens with their meanings; as input passes through the
layers, tokens get updated embeddings". A **sentence embedding** is the mean of the last
layer's vectors over its tokens (as sentence-transformers does). **Before fine-tuning**, the
pretrained all-MiniLM-L6-v2 (trained to put sentences of the same *topic* together) places
films with films and food with food. **After** our sentiment fine-tune (the same network,
trained further to tell positive from negative) the same sentences are pulled apart by
*sentiment*: what transfer learning does to the vectors."""

ANALOGY_NOTE = """**a − b + c**: the famous king − man + woman ≈ queen. It works for some pairs,
in big models trained for it (word2vec), and much less in small ones; below, how many of
{asked} classic analogies come out right with this model's vectors, measured now."""

GROUP_COLORS = ["#f97316", "#2563eb", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04",
                "#db2777"]



def tokens_block(result: dict, name: str) -> str:
    """One tokenizer's view: its name, counts, and the tokens (id and own string on hover)."""
    titles = [f"id {i} · {t}" + (" · bytes, not a whole character" if b else "")
              for i, t, b in zip(result["ids"], result["tokens"], result["bytes"])]
    raw = {n for n, b in enumerate(result["bytes"]) if b}
    special = {n for n, s in enumerate(result["special"]) if s}
    head = (f'<div style="font-weight:600">{html.escape(name)}</div>'
            f'<div style="opacity:.75;margin-bottom:4px">{result["n_tokens"]} tokens · '
            f'{result["n_characters"]} characters · {result["characters_per_token"]:g} '
            f"characters a token" + (f' · {len(raw)} byte pieces' if raw else "") + "</div>")
    ids = ('<div style="opacity:.6;font-size:.85em;font-family:ui-monospace,monospace;'
           f'word-break:break-all">ids: {html.escape(str(result["ids"]))}</div>')
    return head + plots.token_spans(result["shown"], titles, marked=special, raw=raw) + ids


def tokenize(text, tokenizer="shakespeare-gpt"):
    """One tokenizer: the JSON (its own token strings, ids, counts), then the view (HTML)."""
    try:
        result = tokens.tokenize(text, tokenizer)
    except (ValueError, TypeError) as e:
        fail(e)
    name = dict(tokens.tokenizer_keys())[tokenizer]
    public = {k: result[k] for k in ("tokens", "ids", "n_tokens", "n_characters", "shown",
                                     "bytes", "characters_per_token", "notices")}
    return public, tokens_block(result, name)


def tokenize_all(text):
    """Every tokenizer side by side (the page's view)."""
    blocks, notices = [], []
    for key, name in tokens.tokenizer_keys():
        try:
            result = tokens.tokenize(text, key)
        except (ValueError, TypeError) as e:
            if "could not be loaded" in str(e):  # a Hub tokenizer offline: the rest still show
                notices.append(str(e))
                continue
            fail(e)
        blocks.append(f'<div style="margin-bottom:14px">{tokens_block(result, name)}</div>')
        notices += result["notices"]
    legend = ('<div style="opacity:.7">Hover a token for its id and the tokenizer\'s own string '
              '(Ġ = a space before it in GPT tokenizers; ## = the rest of a word in WordPiece). '
              'Outlined: special tokens. Dashed: bytes that are part of a character.</div>')
    notes = "".join(f"<div>⚠️ {html.escape(n)}</div>" for n in dict.fromkeys(notices))
    return "".join(blocks) + legend + notes


def bpe_html(result: dict) -> str:
    """Each step: the merge, then the pieces."""
    rows = [f'<div><b>start</b>: {len(result["steps"][0])} bytes'
            f'{plots.token_spans(_readable(result["steps"][0]), result["steps"][0])}</div>']
    for n, ((left, right), rank, pieces) in enumerate(zip(result["merges"], result["ranks"],
                                                          result["steps"][1:]), start=1):
        pair = html.escape(" + ".join(plots.token_label(t) for t in _readable([left, right])))
        rows.append(f'<div style="margin-top:6px"><b>merge {n}</b>: “{pair}” (number {rank:,} '
                    f'of {result["n_merges"]:,} in the merge list) → {len(pieces)} pieces'
                    f'{plots.token_spans(_readable(pieces), pieces)}</div>')
    return "".join(rows)


def _readable(pieces: list[str]) -> list[str]:
    """Byte-level BPE's characters as the text they stand for ("Ġ" a space, bytes as <F0>)."""
    from models import text as text_tools

    table = text_tools._byte_level_chars()
    out = []
    for p in pieces:
        data = bytes(table[c] for c in p if c in table)
        try:
            out.append(data.decode("utf-8"))
        except UnicodeDecodeError:
            out.append("<" + " ".join(f"{b:02X}" for b in data) + ">")
    return out


def bpe_steps(text, tokenizer="shakespeare-gpt"):
    try:
        result = tokens.bpe_steps(text, tokenizer)
    except (ValueError, TypeError) as e:
        fail(e)
    summary = (f"**{len(result['steps'][0])} bytes → {len(result['steps'][-1])} tokens in "
               f"{len(result['merges'])} merges.**"
               + "".join(f" ⚠️ {n}" for n in result["notices"]))
    public = {k: result[k] for k in ("steps", "merges", "ranks", "notices")}
    return public, summary, bpe_html(result)


def wordpiece_steps(text, tokenizer="sentiment-minilm"):
    try:
        result = tokens.wordpiece_steps(text, tokenizer)
    except (ValueError, TypeError) as e:
        fail(e)
    rows = [f"| {html.escape(w['word'])} | {' + '.join(f'`{p}`' for p in w['pieces'])} | "
            f"{w['tried']} |" for w in result["words"]]
    table = ("| word | longest pieces, from the left | pieces tried |\n|---|---|---:|\n"
             + "\n".join(rows))
    return result, table


def neighbours_figure(word: str, result: list[dict], model: str):
    labels = [f"{plots.token_label(r['token'])} ·{r['id']}" for r in result][::-1]
    bars = {"type": "bar", "orientation": "h", "y": labels,
            "x": [r["cosine"] for r in result][::-1], "marker": {"color": plots.BASE},
            "text": [f"{r['cosine']:.2f}" for r in result][::-1], "textposition": "outside",
            "hovertemplate": "%{y}: cosine %{x:.3f}<extra></extra>"}
    return plots.figure([bars], height=120 + 24 * len(result),
                        title=f"Nearest to “{word}” in {model}'s embedding matrix",
                        xaxis={"range": [0, 1.1], "title": {"text": "cosine similarity"}},
                        yaxis={"type": "category"}, margin=dict(l=120, r=20, t=50, b=45))


def nearest_tokens(word, model="sentiment-minilm", k=10):
    try:
        result = tokens.nearest_tokens(word, model, k)
    except (ValueError, TypeError) as e:
        fail(e)
    return result, neighbours_figure(str(word).strip(), result, model)


def map_figure(points: list[list[float]], labels: list[str], groups: list[int], title: str,
               explained: list[float], height: int = 460, hover: list[str] | None = None):
    """Points on the first two principal components, labelled, coloured by group."""
    hover = hover or labels
    traces = []
    for g in sorted(set(groups)):
        idx = [i for i, x in enumerate(groups) if x == g]
        traces.append({"type": "scatter", "mode": "markers+text",
                       "x": [points[i][0] for i in idx], "y": [points[i][1] for i in idx],
                       "text": [labels[i] for i in idx], "textposition": "top center",
                       "customdata": [hover[i] for i in idx],
                       "marker": {"size": 9, "color": GROUP_COLORS[g % len(GROUP_COLORS)]},
                       "name": f"group {g + 1}",
                       "hovertemplate": "%{customdata}<extra></extra>"})
    kept = f"the two axes keep {explained[0]:.0%} + {explained[1]:.0%} of the variance"
    return plots.figure(traces, height=height, title=f"{title}<br><sub>{kept}</sub>",
                        showlegend=len(traces) > 1,
                        xaxis={"title": {"text": "first principal component"},
                               "zeroline": False},
                        yaxis={"title": {"text": "second"}, "zeroline": False},
                        margin=dict(l=50, r=20, t=70, b=45))


def embedding_map(words, model="sentiment-minilm"):
    try:
        result = tokens.embedding_map(words, model)
    except (ValueError, TypeError) as e:
        fail(e)
    return result, map_figure(result["xy"], result["words"], result["groups"],
                              f"Words in {model}'s embedding space", result["explained_variance"])


def _short(sentence: str, n: int = 28) -> str:
    return sentence if len(sentence) <= n else sentence[:n - 1] + "…"


def similarity_figure(result: dict, title: str):
    labels = [f"{i + 1}. {_short(s)}" for i, s in enumerate(result["sentences"])]
    heat = {"type": "heatmap", "z": result["similarity"], "x": labels, "y": labels,
            "zmin": -0.2, "zmax": 1, "colorscale": "Cividis",
            "colorbar": {"title": {"text": "cosine"}, "thickness": 12},
            "texttemplate": "%{z:.2f}" if len(labels) <= 12 else "",
            "hovertemplate": "%{y}<br>%{x}<br>cosine %{z:.3f}<extra></extra>"}
    return plots.figure([heat], height=200 + 28 * len(labels), title=title,
                        xaxis={"type": "category", "tickangle": -45, "showgrid": False},
                        yaxis={"type": "category", "autorange": "reversed", "showgrid": False},
                        margin=dict(l=190, r=10, t=50, b=160))


def sentence_map(sentences, model="pretrained"):
    """One model's map and similarity matrix."""
    try:
        result = tokens.sentence_map(sentences, model)
    except (ValueError, TypeError) as e:
        fail(e)
    name = {"pretrained": "MiniLM before fine-tuning (pretrained)",
            "fine-tuned": "after our sentiment fine-tune"}[model]
    labels = [str(i + 1) for i in range(len(result["sentences"]))]  # the matrix's numbers
    hover = [f"{i + 1}. {s}" for i, s in enumerate(result["sentences"])]
    return (result, map_figure(result["xy"], labels, [0] * len(labels), name,
                               result["explained_variance"], height=420, hover=hover),
            similarity_figure(result, f"Cosine similarity, {name}"))


def sentence_maps(sentences):
    """Before and after, side by side (the page's view)."""
    _, before_map, before_sim = sentence_map(sentences, "pretrained")
    _, after_map, after_sim = sentence_map(sentences, "fine-tuned")
    return before_map, after_map, before_sim, after_sim


def analogy(a, b, c, model="sentiment-minilm"):
    try:
        result = tokens.analogy(a, b, c, model)
    except (ValueError, TypeError) as e:
        fail(e)
    rows = "\n".join(f"| {n} | {html.escape(plots.token_label(r['token']))} | {r['cosine']:.3f} |"
                     for n, r in enumerate(result["results"], start=1))
    wrong = [x for x in result["examples"] if not x["right"]][:4]
    honest = (f"With {model}'s vectors, **{result['right']} of the {result['asked']} classic "
              f"analogies** this vocabulary can ask come out right (nearest token, the three "
              f"words left out)." + (" Misses: " + "; ".join(
                  f"{x['analogy']} gave “{x['got']}”, not “{x['expected']}”" for x in wrong)
                  + "." if wrong else ""))
    return (result, f"**{a} − {b} + {c}** ≈\n\n| # | token | cosine |\n|---:|---|---:|\n{rows}",
            honest)


def build(on_show=()):
    """The tab; `on_show`: the events on which it first fills itself (app.py: the tab being
    selected, or its own page loading), so that no model runs for a visitor who never looks."""
    gr.Markdown(INTRO)
    keys = tokens.tokenizer_keys()
    text = gr.Textbox(TEXT, lines=2, max_lines=8, label=f"Text (up to {tokens.MAX_CHARS:,} "
                                                        "characters)", elem_id="tok-text")
    playground = gr.HTML(elem_id="tok-playground")
    with gr.Row(visible=False):  # the API's endpoint: one tokenizer at a time
        one = gr.Dropdown([(n, k) for k, n in keys], value=keys[0][0], label="Tokenizer")
        one_json, one_html = gr.JSON(), gr.HTML()
    gr.on([text.change, *on_show], tokenize_all, text, playground, api_visibility="private",
          trigger_mode="always_last", show_progress="hidden")
    gr.on([one.change], tokenize, [text, one], [one_json, one_html], api_name="tokenize",
          show_progress="hidden")

    gr.Markdown("### Watch byte-pair encoding build a word")
    bpe_keys = [(name, key) for key, name in keys if key in ("shakespeare-gpt", "gpt2")]
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            word = gr.Textbox("ROMEO. Romeo", label="A word or a short text", elem_id="tok-word")
            bpe_tokenizer = gr.Dropdown(bpe_keys, value="shakespeare-gpt",
                                        label="BPE tokenizer", visible=len(bpe_keys) > 1,
                                        elem_id="tok-bpe-tokenizer")
            gr.Markdown(BPE_NOTE)
        with gr.Column(scale=3, min_width=300):
            bpe_summary = gr.Markdown(elem_id="tok-bpe-summary")
            bpe_view = gr.HTML(elem_id="tok-bpe")
            bpe_json = gr.JSON(visible=False)
    gr.Markdown(WORDPIECE_NOTE)
    wp_tokenizer = gr.Dropdown([(n, k) for k, n in keys if k in ("sentiment-minilm",
                                                                 "sentiment-encoder")],
                               value="sentiment-minilm", label="WordPiece tokenizer",
                               elem_id="tok-wp-tokenizer")
    wp_table = gr.Markdown(elem_id="tok-wordpiece")
    wp_json = gr.JSON(visible=False)
    gr.on([word.change, bpe_tokenizer.change, *on_show], bpe_steps, [word, bpe_tokenizer],
          [bpe_json, bpe_summary, bpe_view], api_name="bpe_steps", trigger_mode="always_last",
          show_progress="hidden")
    gr.on([word.change, wp_tokenizer.change, *on_show], wordpiece_steps, [word, wp_tokenizer],
          [wp_json, wp_table], api_name="wordpiece_steps", trigger_mode="always_last",
          show_progress="hidden")

    gr.Markdown("### Nearest neighbours: which tokens have vectors like this one")
    models = [("MiniLM (384 numbers a token)", "sentiment-minilm"),
              ("the Shakespeare GPT (256)", "shakespeare-gpt")]
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            near_word = gr.Textbox("king", label="A word (one token)", elem_id="tok-near-word")
            near_model = gr.Radio(models, value="sentiment-minilm", label="Embedding matrix",
                                  elem_id="tok-near-model")
            k = gr.Slider(1, tokens.MAX_K, value=10, step=1, label="How many", elem_id="tok-k")
            gr.Markdown(NEIGHBOURS_NOTE)
        with gr.Column(scale=3, min_width=300):
            near_plot = gr.Plot(label="Nearest tokens", elem_id="tok-near")
            near_json = gr.JSON(visible=False)
    gr.on([near_word.submit, near_model.change, k.release, *on_show], nearest_tokens,
          [near_word, near_model, k], [near_json, near_plot], api_name="nearest_tokens",
          trigger_mode="always_last", show_progress="hidden")

    gr.Markdown("### A map of meanings")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            words = gr.Textbox(MAP_EXAMPLES["royalty, family"], lines=3,
                               label="Words (commas; a semicolon starts a new group)",
                               elem_id="tok-words")
            gr.Examples([[v] for v in MAP_EXAMPLES.values()], [words], label="Examples")
            map_model = gr.Radio(models, value="sentiment-minilm", label="Embedding matrix",
                                 elem_id="tok-map-model")
            gr.Markdown(MAP_NOTE)
        with gr.Column(scale=3, min_width=300):
            map_plot = gr.Plot(label="Words", elem_id="tok-map")
            map_json = gr.JSON(visible=False)
    gr.on([words.change, map_model.change, *on_show], embedding_map, [words, map_model],
          [map_json, map_plot], api_name="embedding_map", trigger_mode="always_last",
          show_progress="hidden")

    gr.Markdown("### Sentences, before and after fine-tuning")
    gr.Markdown(SENTENCE_NOTE)
    sentences = gr.Textbox(SENTENCES, lines=8, max_lines=20, label="Sentences (one a line)",
                           elem_id="tok-sentences")
    draw = gr.Button("Map them", variant="primary", elem_id="tok-sentences-go")
    with gr.Row():
        before_map = gr.Plot(label="Before fine-tuning", elem_id="tok-before")
        after_map = gr.Plot(label="After fine-tuning", elem_id="tok-after")
    with gr.Row():
        before_sim = gr.Plot(label="Similarity before", elem_id="tok-before-sim")
        after_sim = gr.Plot(label="Similarity after", elem_id="tok-after-sim")
    gr.on([draw.click, *on_show], sentence_maps, sentences,
          [before_map, after_map, before_sim, after_sim], api_visibility="private",
          show_progress="minimal")
    with gr.Row(visible=False):  # the API's endpoint: one model at a time
        sentence_model = gr.Radio(list(tokens.SENTENCE_MODELS), value="pretrained")
        one_map_json, one_map, one_sim = gr.JSON(), gr.Plot(), gr.Plot()
    gr.on([sentence_model.change], sentence_map, [sentences, sentence_model],
          [one_map_json, one_map, one_sim], api_name="sentence_map")

    gr.Markdown("### Vector arithmetic, honestly")
    with gr.Row(equal_height=False):
        with gr.Column(scale=2, min_width=280):
            with gr.Row():
                a = gr.Textbox("king", label="a", elem_id="tok-a", min_width=80)
                b = gr.Textbox("man", label="− b", elem_id="tok-b", min_width=80)
                c = gr.Textbox("woman", label="+ c", elem_id="tok-c", min_width=80)
            analogy_model = gr.Radio(models, value="sentiment-minilm", label="Embedding matrix",
                                     elem_id="tok-analogy-model")
            go = gr.Button("Compute a − b + c", elem_id="tok-analogy-go")
        with gr.Column(scale=3, min_width=300):
            analogy_table = gr.Markdown(elem_id="tok-analogy")
            gr.Markdown(ANALOGY_NOTE.format(asked=len(tokens.ANALOGIES)))
            honest = gr.Markdown(elem_id="tok-analogy-honest")
            analogy_json = gr.JSON(visible=False)
    gr.on([go.click, analogy_model.change, *on_show], analogy, [a, b, c, analogy_model],
          [analogy_json, analogy_table, honest], api_name="analogy", show_progress="hidden")


DEMO = Demo(title="Tokens & embeddings", slug="tokens", build=build)
