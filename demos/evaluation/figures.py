"""The Evaluation tab's figures and tables, from the plain values that models/evaluation returns:
the overfitting curves (the gap shaded, the best epoch marked, earlier runs to compare), the
confusion matrix as a table whose cells can be clicked, per-class figures, a threshold's counts
and curves, and the paired test's table."""

from __future__ import annotations

import html

import pandas as pd

from demos import live, plots
from models import evaluation

TRAIN_COLOR, VAL_COLOR, GAP = "#60a5fa", "#f97316", "rgba(249, 115, 22, 0.18)"
RUN_COLORS = ["#a855f7", "#22c55e", "#eab308", "#ec4899", "#14b8a6", "#94a3b8"]
MAX_COMPARED = 6


def pct(value, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}%}"


def interval(bounds) -> str:
    low, high = bounds
    return f"{low:.1%} to {high:.1%}"


# ---------------------------------------------------------------------------------------------
# Overfitting


def run_label(settings: dict) -> str:
    cures = [f"weight decay {settings['weight_decay']:g}" if settings["weight_decay"] else "",
             f"dropout {settings['dropout']:g}" if settings["dropout"] else "",
             "augmented" if settings["augment"] else ""]
    return ", ".join([f"{settings['n_train']:,} digits", *[c for c in cures if c]])


def overfit_figure(state: dict, compared: list[dict] = ()) -> plots.PlotData:
    """Loss (top) and accuracy (bottom) on the training digits and on the validation digits,
    against epochs; the gap between them shaded; the best epoch and where early stopping would
    stop marked; the validation loss of earlier runs, dotted."""
    h = state["history"]
    epochs = h["epoch"]
    data = []
    for axis, key, fmt in (("", "loss", ".3f"), ("2", "accuracy", ".1%")):
        common = {"type": "scatter", "mode": "lines", "x": epochs, "xaxis": "x" + axis,
                  "yaxis": "y" + axis, "showlegend": axis == ""}
        data.append({**common, "y": h[f"train_{key}"], "name": "training digits",
                     "legendgroup": "train", "line": {"color": TRAIN_COLOR, "width": 2},
                     "hovertemplate": f"epoch %{{x}}: %{{y:{fmt}}}<extra>training</extra>"})
        data.append({**common, "y": h[f"val_{key}"], "name": "validation digits",
                     "legendgroup": "val", "line": {"color": VAL_COLOR, "width": 2},
                     "fill": "tonexty", "fillcolor": GAP,
                     "hovertemplate": f"epoch %{{x}}: %{{y:{fmt}}}<extra>validation</extra>"})
    for i, run in enumerate(list(compared)[-MAX_COMPARED:]):
        data.append({"type": "scatter", "mode": "lines", "x": run["history"]["epoch"],
                     "y": run["history"]["val_loss"], "name": f"validation: {run['label']}",
                     "line": {"color": RUN_COLORS[i % len(RUN_COLORS)], "width": 1.5,
                              "dash": "dot"},
                     "hovertemplate": "epoch %{x}: %{y:.3f}<extra>" + html.escape(run["label"])
                     + "</extra>"})
    shapes, notes = [], []
    for epoch, text, dash in ((state["best_epoch"], "best epoch", "solid"),
                              (state["early_stop_epoch"], "early stopping stops", "dash")):
        if epoch is None:
            continue
        shapes.append({"type": "line", "x0": epoch, "x1": epoch, "xref": "x", "yref": "paper",
                       "y0": 0, "y1": 1, "line": {"color": "#22c55e", "width": 1.5,
                                                  "dash": dash}})
        notes.append({"x": epoch, "xref": "x", "y": 1.0 if dash == "solid" else 0.48,
                      "yref": "paper", "text": f"{text}: {epoch}", "showarrow": False,
                      "xanchor": "left", "font": {"size": 11, "color": "#22c55e"}})
    title = ("Loss (top) and accuracy (bottom): training digits vs validation digits"
             if state["epoch"] else "Press Play to train the network")
    top = max(max(h["val_loss"]), max(h["train_loss"]))
    return plots.figure(
        data, height=480, title=title, shapes=shapes, annotations=notes,
        legend={"orientation": "h", "y": -0.14},
        xaxis={"anchor": "y", "showticklabels": False, "rangemode": "tozero"},
        yaxis={"domain": [0.54, 1], "title": {"text": "loss"}, "range": [0, min(top, 4) * 1.05]},
        xaxis2={"anchor": "y2", "matches": "x", "title": {"text": "epoch"}},
        yaxis2={"domain": [0, 0.46], "range": [0, 1.02], "tickformat": ".0%",
                "title": {"text": "accuracy"}},
        margin=dict(l=50, r=15, t=40, b=40))


def overfit_status(state: dict) -> str:
    head = (f"**{live.status_word(state['status'])}**, epoch {state['epoch']} of "
            f"{state['target'] or '–'} ({state['n_train']:,} training digits, "
            f"{state['n_val']:,} validation digits).")
    if not state["epoch"]:
        return head
    gap = state["train_accuracy"] - state["val_accuracy"]
    right = round(state["val_accuracy"] * state["n_val"])
    lines = [head,
             f"Training accuracy {pct(state['train_accuracy'])}, validation accuracy "
             f"{pct(state['val_accuracy'])} (Wilson 95 %: "
             f"{interval(evaluation.wilson(right, state['n_val']))}): a gap of "
             f"{gap * 100:.1f} points. Training loss "
             f"{state['train_loss']:.3f}, validation loss {state['val_loss']:.3f}."]
    if state["best_epoch"]:
        lines.append(f"Lowest validation loss at epoch **{state['best_epoch']}** "
                     f"({state['best_val_loss']:.3f}): early stopping keeps those weights.")
    test = state.get("test")
    if test:
        lines.append(f"**Test accuracy, measured once**: {pct(test['accuracy'])} (Wilson 95 %: "
                     f"{interval(test['interval'])}) on {test['n']:,} test digits, with the "
                     f"weights of epoch {test['epoch']}.")
    return "  \n".join(lines)


def comparison_table(runs: list[dict]) -> pd.DataFrame:
    """One row per finished run, newest first."""
    columns = ["run", "best epoch", "validation loss (best)", "validation accuracy (best)",
               "training accuracy (end)", "gap (end)", "test accuracy (Wilson 95 %)"]
    rows = []
    for run in reversed(runs):
        h, best = run["history"], run["best_epoch"] or 0
        test = run.get("test")
        rows.append([run["label"], best, round(h["val_loss"][best], 3),
                     pct(h["val_accuracy"][best]), pct(h["train_accuracy"][-1]),
                     f"{(h['train_accuracy'][-1] - h['val_accuracy'][-1]) * 100:.1f} pts",
                     f"{pct(test['accuracy'])} ({interval(test['interval'])})" if test
                     else "–"])
    return pd.DataFrame(rows, columns=columns)


# ---------------------------------------------------------------------------------------------
# The confusion matrix


def _cell_style(count: int, row_total: int, diagonal: bool) -> str:
    share = count / row_total if row_total else 0
    if diagonal:
        return f"background-color: rgba(34, 197, 94, {0.15 + 0.55 * share:.2f})"
    if count == 0:
        return ""
    return f"background-color: rgba(249, 115, 22, {min(0.2 + 3 * share, 0.9):.2f})"


def confusion_table(result: dict):
    """The matrix as a styled table: rows the true digit, columns the predicted one; the
    diagonal green, the mistakes orange by their share of the row."""
    labels = [str(d) for d in result["labels"]]
    matrix = result["matrix"]
    frame = pd.DataFrame(matrix, columns=labels)
    frame.insert(0, "true ↓ said →", [f"true {d}" for d in labels])
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    styles.iloc[:, 1:] = cell_styles(matrix)
    return frame.style.apply(lambda _: styles, axis=None)


def cell_styles(matrix: list[list[int]]) -> list[list[str]]:
    return [[_cell_style(count, sum(row), i == j) for j, count in enumerate(row)]
            for i, row in enumerate(matrix)]


def per_class_table(result: dict) -> pd.DataFrame:
    return pd.DataFrame({
        "digit": [str(d) for d in result["labels"]],
        "precision": [pct(v) for v in result["precision"]],
        "recall": [pct(v) for v in result["recall"]],
        "F1": [pct(v) for v in result["f1"]],
        "digits": result["support"]})


def confusion_summary(result: dict, name: str) -> str:
    right = sum(result["matrix"][i][i] for i in range(len(result["labels"])))
    return (f"**{name}**: {right} of {result['n']:,} held-out digits right, accuracy "
            f"**{pct(result['accuracy'])}** (Wilson 95 % interval: "
            f"{interval(result['accuracy_interval'])}). Click a cell to see its digits.")


def digit_caption(true: int, predicted: int, confidence: float) -> str:
    return f"true {true}, said {predicted} ({confidence:.0%})"


# ---------------------------------------------------------------------------------------------
# Precision and recall at a threshold


def counts_html(counts: dict, positive: str, negative: str) -> str:
    """The four counts as a 2 x 2 table (rows: what it is; columns: what was said) and the
    figures made of them, each with its formula."""
    tp, fp, tn, fn = (counts[k] for k in ("tp", "fp", "tn", "fn"))
    p, n = html.escape(positive), html.escape(negative)
    cell = ('<td style="padding:6px 10px;border:1px solid var(--border-color-primary);'
            'text-align:center;background:{}">{}<br><b>{}</b></td>')
    head = '<th style="padding:6px 10px;font-weight:600">{}</th>'
    table = (
        '<table style="border-collapse:collapse;font-size:14px;margin-bottom:8px">'
        f'<tr><th></th>{head.format("said " + p)}{head.format("said " + n)}</tr>'
        f'<tr>{head.format("is " + p)}{cell.format("rgba(34,197,94,.25)", "true positives", tp)}'
        f'{cell.format("rgba(249,115,22,.25)", "false negatives", fn)}</tr>'
        f'<tr>{head.format("is " + n)}{cell.format("rgba(249,115,22,.25)", "false positives", fp)}'
        f'{cell.format("rgba(34,197,94,.25)", "true negatives", tn)}</tr></table>')
    figures = (
        f"<div>precision = TP / (TP + FP) = {tp} / {tp + fp} = <b>{pct(counts['precision'])}</b>"
        f"<br>recall = TP / (TP + FN) = {tp} / {tp + fn} = <b>{pct(counts['recall'])}</b>"
        f"<br>F1 = 2 · precision · recall / (precision + recall) = <b>{pct(counts['f1'])}</b>"
        f"<br>accuracy = (TP + TN) / all = {tp + tn} / {counts['n']} = "
        f"<b>{pct(counts['accuracy'])}</b> (Wilson 95 %: "
        f"{interval(counts['accuracy_interval'])})</div>")
    return f'<div style="overflow-x:auto">{table}{figures}</div>'


def curves_figure(curves: dict, counts: dict, title: str) -> plots.PlotData:
    """The precision-recall curve (left) and the ROC curve (right), the threshold's point
    marked on both."""
    line = {"type": "scatter", "mode": "lines", "line": {"color": plots.BASE, "width": 2},
            "showlegend": False}
    here = {"type": "scatter", "mode": "markers", "showlegend": False,
            "marker": {"color": plots.ACCENT, "size": 12, "line": {"color": "white", "width": 1}}}
    recall, precision = counts["recall"] or 0.0, counts["precision"]
    fpr = counts["false_positive_rate"] or 0.0
    data = [
        {**line, "x": curves["recall"], "y": curves["precision"],
         "hovertemplate": "recall %{x:.1%}, precision %{y:.1%}<extra></extra>"},
        {**here, "x": [recall], "y": [precision if precision is not None else 1.0],
         "hovertemplate": "this threshold: recall %{x:.1%}, precision %{y:.1%}<extra></extra>"},
        {**line, "x": curves["fpr"], "y": curves["tpr"], "xaxis": "x2", "yaxis": "y2",
         "hovertemplate": "false positive rate %{x:.1%}, recall %{y:.1%}<extra></extra>"},
        {**here, "x": [fpr], "y": [recall], "xaxis": "x2", "yaxis": "y2",
         "hovertemplate": "this threshold: FPR %{x:.1%}, recall %{y:.1%}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "x": [0, 1], "y": [0, 1], "xaxis": "x2",
         "yaxis": "y2", "showlegend": False, "hoverinfo": "skip",
         "line": {"color": plots.FONT_COLOR, "width": 1, "dash": "dot"}},
    ]
    unit = {"range": [0, 1.02], "tickformat": ".0%"}
    return plots.figure(  # one above the other: side by side, a phone squeezes both
        data, height=560, title=title,
        xaxis={**unit, "anchor": "y", "title": {"text": "recall"}},
        yaxis={**unit, "domain": [0.6, 1], "title": {"text": "precision"}},
        xaxis2={**unit, "anchor": "y2", "title": {"text": "false positive rate"}},
        yaxis2={**unit, "domain": [0, 0.4], "anchor": "x2", "title": {"text": "recall"}},
        annotations=[
            {"text": f"precision-recall (average precision {curves['average_precision']:.3f})",
             "x": 0.5, "xref": "paper", "y": 1.0, "yref": "paper", "yanchor": "bottom",
             "showarrow": False, "font": {"size": 12}},
            {"text": f"ROC (area under it {curves['roc_auc']:.3f})", "x": 0.5, "xref": "paper",
             "y": 0.4, "yref": "paper", "yanchor": "bottom", "showarrow": False,
             "font": {"size": 12}}],
        margin=dict(l=50, r=15, t=60, b=45))


def _text(text: str) -> str:
    """A sentence of the data set, some of whose texts hold HTML entities (at&amp;t): as it
    reads, escaped."""
    return html.escape(html.unescape(text))


def sentence_list(mistakes: list[dict], threshold: float, most: int = 60) -> str:
    if not mistakes:
        return "<p>No sentence is wrong at this threshold.</p>"
    items = "".join(
        f'<li style="margin-bottom:6px"><b>{"positive" if m["positive"] else "negative"}</b>'
        f' (raters), the model {m["score"]:.0%} positive: {_text(m["text"])}</li>'
        for m in mistakes[:most])
    more = (f"<p>… and {len(mistakes) - most} more.</p>" if len(mistakes) > most else "")
    return (f"<p>{len(mistakes)} sentences wrong at threshold {threshold:.2f}, the surest "
            f"mistakes first:</p><ol style='padding-left:20px'>{items}</ol>{more}")


# ---------------------------------------------------------------------------------------------
# How sure: the paired test


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def significance_markdown(result: dict, names: dict) -> str:
    a, b = names[result["a"]], names[result["b"]]
    big_a, big_b = _capital(a), _capital(b)
    p = result["p_value"]
    low, high = result["difference_interval"]
    verdict = (f"**Yes**: a difference this large would be very unlikely (p = {p:.2g}) if the "
               "two were equally good." if p < 0.05 else
               f"**Not shown**: a difference this large could well be chance (p = {p:.2g}). "
               "More held-out items would tell.")
    return (
        f"| | {big_a} right | {big_a} wrong |\n|---|---|---|\n"
        f"| **{big_b} right** | {result['both_right']} | {result['only_b']} |\n"
        f"| **{big_b} wrong** | {result['only_a']} | {result['both_wrong']} |\n\n"
        f"**{big_a}**: {pct(result['accuracy_a'])} (Wilson 95 %: "
        f"{interval(result['interval_a'])})  \n**{big_b}**: {pct(result['accuracy_b'])} "
        f"(Wilson 95 %: "
        f"{interval(result['interval_b'])})  \n"
        f"Difference: {(result['accuracy_a'] - result['accuracy_b']) * 100:.1f} points "
        f"(paired bootstrap 95 %: {low * 100:.1f} to {high * 100:.1f} points), on the same "
        f"{result['n']:,} held-out items.\n\n"
        f"Only the {result['only_a'] + result['only_b']} items where they disagree can tell them "
        f"apart: {a} alone was right on {result['only_a']}, {b} alone on {result['only_b']}. "
        f"{result['test']}: if both were equally good, each disagreement would go either way "
        f"like a coin. Is {a} really better? {verdict}")
