"""The Transfer learning tab's figures and sentences, from the plain values that models/transfer
returns (records, validations, maps): the three ways' curves, what pretraining buys, the
verdicts on a drawing, the two maps, and a confusion matrix whose cells show their drawings."""

from __future__ import annotations

import html

import numpy as np

from demos import live, plots
from models import transfer

COLORS = {"feature_extraction": "#f97316", "fine_tune": "#a855f7", "scratch": "#60a5fa"}
NAMES = transfer.METHOD_NAMES
MAX_IN_CELL = 12  # drawings shown in one cell of the confusion matrix


def _pct(value) -> str:
    return "–" if value is None else f"{value:.0%}"


def curves_figure(state: dict) -> plots.PlotData:
    """Loss (left) and validation accuracy (right) of each way, against steps."""
    data = []
    for method, record in state["methods"].items():
        history = record["history"]
        steps = [h["step"] for h in history]
        common = {"type": "scatter", "mode": "lines", "name": NAMES[method],
                  "legendgroup": method, "line": {"color": COLORS[method], "width": 2}}
        data.append({**common, "x": steps, "y": [h["loss"] for h in history],
                     "hovertemplate": "step %{x}: loss %{y:.3f}<extra>" + NAMES[method]
                     + "</extra>"})
        data.append({**common, "x": steps, "y": [h["val_accuracy"] for h in history],
                     "xaxis": "x2", "yaxis": "y2", "showlegend": False,
                     "hovertemplate": "step %{x}: %{y:.0%}<extra>" + NAMES[method]
                     + "</extra>"})
    title = ("Loss (training batches)  ·  validation accuracy" if state["step"]
             else "Press Play (or Step) to train the three networks")
    return plots.figure(
        data, height=340, title=title,
        legend={"orientation": "h", "y": -0.22},
        xaxis={"domain": [0, 0.45], "title": {"text": "step"}, "rangemode": "tozero"},
        yaxis={"rangemode": "tozero", "title": {"text": "loss"}},
        xaxis2={"domain": [0.55, 1], "title": {"text": "step"}, "anchor": "y2",
                "rangemode": "tozero"},
        yaxis2={"range": [0, 1.02], "tickformat": ".0%", "anchor": "x2"},
        margin=dict(l=45, r=15, t=40, b=40))


def status(state: dict) -> str:
    if state.get("place"):
        return ""
    n, mode = state["held_out"], state["mode"]
    how = (f"{n} drawings held out" if mode == "holdout"
           else f"leave-one-out: {state['folds']} folds, every drawing held out once")
    parts = [f"**{NAMES[m]}** {_pct(r['val_accuracy'])}" for m, r in state["methods"].items()]
    return (f"{live.status_word(state['status'])}, step {state['step']} "
            f"({how}). Validation accuracy: " + " · ".join(parts) + ".")


def numbers(state: dict) -> dict:
    return {"step": state["step"], "mode": state["mode"], "held_out": state["held_out"],
            **{m: {"loss": r["loss"], "val_accuracy": r["val_accuracy"]}
               for m, r in state["methods"].items()}}


def api_record(state: dict, method: str) -> dict:
    """/transfer_learn's frame: {"step", "loss", "val_accuracy", "per_class"} (+ the status,
    the validation's mode and size)."""
    record = state["methods"][method]
    return {"step": state["step"], "loss": record["loss"], "val_accuracy": record["val_accuracy"],
            "per_class": record["validation"]["per_class"], "status": state["status"],
            "validation": state["mode"], "held_out": state["held_out"]}


# ---------------------------------------------------------------------------------------------
# What pretraining buys


def _curve_traces(points: dict[str, dict[int, list[float]]]) -> list[dict]:
    data = []
    for method, by_n in points.items():
        ns = sorted(by_n)
        means = [float(np.mean(by_n[n])) for n in ns]
        if any(len(by_n[n]) > 1 for n in ns):  # a band from the lowest pick to the highest
            data.append({"type": "scatter", "x": ns + ns[::-1],
                         "y": [min(by_n[n]) for n in ns] + [max(by_n[n]) for n in ns[::-1]],
                         "fill": "toself", "fillcolor": COLORS[method], "opacity": 0.18,
                         "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False,
                         "legendgroup": method})
        data.append({"type": "scatter", "mode": "lines+markers", "x": ns, "y": means,
                     "name": NAMES[method], "legendgroup": method,
                     "line": {"color": COLORS[method], "width": 2},
                     "hovertemplate": "%{x} per class: %{y:.1%}<extra>" + NAMES[method]
                     + "</extra>"})
    return data


def _curve_layout(title: str, counts) -> dict:
    return dict(height=340, title=title, legend={"orientation": "h", "y": -0.25},
                xaxis={"type": "log", "title": {"text": "drawings per class"},
                       "tickvals": sorted(counts)},
                yaxis={"range": [0, 1.02], "tickformat": ".0%",
                       "title": {"text": "accuracy on held-out drawings"}},
                margin=dict(l=50, r=15, t=40, b=40))


def shipped_curve_figure() -> plots.PlotData:
    curve = transfer.shipped_curve()
    points = {m: {int(n): a for n, a in by_n.items()} for m, by_n in curve["accuracy"].items()}
    return plots.figure(_curve_traces(points), **_curve_layout(
        f"Starter set: {curve['tested_on']} held-out drawings, {curve['seeds']} picks each",
        curve["per_class"]))


def my_curve_figure(state: dict) -> plots.PlotData:
    points: dict[str, dict[int, list[float]]] = {}
    for p in state["points"]:
        points.setdefault(p["method"], {})[p["per_class"]] = [p["accuracy"]]
    if not points:
        return plots.empty("Training the first network…", height=340)
    counts = {p["per_class"] for p in state["points"]}
    return plots.figure(_curve_traces(points), **_curve_layout("Your drawings", counts))


def curve_status(state: dict) -> str:
    done = len(state["points"])
    words = {"done": "Done", "capped": "Stopped at the time cap", "paused": "Stopped"}
    head = words.get(state["status"], "Measuring")
    return (f"{head}: {done} networks trained and scored ({state['step']} of {state['total']} "
            "steps). Each is scored on the drawings of your set it did not learn from.")


# ---------------------------------------------------------------------------------------------
# Trying the networks on a drawing


def empty_verdicts() -> plots.PlotData:
    return plots.empty("No network has been trained yet.")


def verdict_text(verdicts: dict[str, dict]) -> str:
    lines = []
    for method, v in verdicts.items():
        said = ("**not sure**" if v["verdict"] == "not sure" else "")
        lines.append(f"- **{NAMES[method]}**: {html.escape(v['label'])} ({v['confidence']:.0%})"
                     + (f", {said}: it would not bet on it" if said else ""))
    return "\n".join(lines)


def verdict_figure(verdicts: dict[str, dict]) -> plots.PlotData:
    data = []
    for method, v in verdicts.items():
        classes = list(v["probabilities"])
        data.append({"type": "bar", "name": NAMES[method], "x": classes,
                     "y": [v["probabilities"][c] for c in classes],
                     "marker": {"color": COLORS[method]},
                     "hovertemplate": "%{x}: %{y:.1%}<extra>" + NAMES[method] + "</extra>"})
    return plots.figure(data, height=300, barmode="group",
                        legend={"orientation": "h", "y": -0.3},
                        yaxis={"range": [0, 1.02], "tickformat": ".0%"},
                        xaxis={"type": "category"}, margin=dict(l=45, r=15, t=20, b=40))


# ---------------------------------------------------------------------------------------------
# The two maps, and the confusion matrix


def maps_figure(m: dict) -> plots.PlotData:
    labels = np.asarray(m["labels"])
    data = []
    palette = ["#f97316", "#60a5fa", "#22c55e", "#a855f7", "#eab308", "#ef4444", "#14b8a6",
               "#ec4899", "#84cc16", "#94a3b8"]
    for k, name in enumerate(m["classes"]):
        pick = labels == k
        for space, axes in (("pixels", {}), ("features", {"xaxis": "x2", "yaxis": "y2"})):
            xy = np.asarray(m[space])[pick]
            data.append({"type": "scatter", "mode": "markers",
                         "x": plots.rounded(xy[:, 0].tolist(), 3),
                         "y": plots.rounded(xy[:, 1].tolist(), 3), "name": name,
                         "legendgroup": name,
                         "showlegend": space == "pixels", **axes,
                         "marker": {"color": palette[k % len(palette)], "size": 7},
                         "hovertemplate": html.escape(name) + "<extra></extra>"})
    hidden = {"showticklabels": False, "zeroline": False}
    return plots.figure(
        data, height=380, legend={"orientation": "h", "y": -0.08},
        xaxis={"domain": [0, 0.47], **hidden}, yaxis={**hidden},
        xaxis2={"domain": [0.53, 1], "anchor": "y2", **hidden},
        yaxis2={"anchor": "x2", **hidden},
        annotations=[
            {"text": f"pixels: nearest is same class {m['pixels_nn']:.0%}", "x": 0.0,
             "y": 1.08, "xref": "paper", "yref": "paper", "showarrow": False,
             "xanchor": "left"},
            {"text": f"frozen features: {m['features_nn']:.0%}", "x": 0.53, "y": 1.08,
             "xref": "paper", "yref": "paper", "showarrow": False, "xanchor": "left"}],
        margin=dict(l=10, r=10, t=40, b=10))


def confusion_html(validation: dict, images: np.ndarray, classes: list[str], method: str) -> str:
    """The confusion matrix as a table (it scrolls sideways on its own on a phone, the page does
    not): each cell its count and its drawings; then each class's accuracy (its row's diagonal
    over its row)."""
    matrix = np.asarray(validation["matrix"])
    cells: dict[tuple[int, int], list[int]] = {}
    for i, t, p in zip(validation["index"], validation["truth"], validation["predicted"]):
        cells.setdefault((t, p), []).append(i)
    esc = [html.escape(c) for c in classes]
    head = "".join(f"<th style='padding:2px 4px;font-weight:normal'>{c}</th>" for c in esc)
    rows = []
    for t, c in enumerate(esc):
        tds = []
        for p in range(len(classes)):
            shown = cells.get((t, p), [])
            pictures = "".join(
                f"<img src='{plots.gray_png(np.round(images[i] * 255).astype(np.uint8))}' "
                f"alt='drawing no. {i + 1}' title='no. {i + 1}' "
                "style='width:22px;height:22px;image-rendering:pixelated;margin:1px'>"
                for i in shown[:MAX_IN_CELL])
            colour = ("rgba(34,197,94,0.18)" if t == p and matrix[t, p]
                      else "rgba(239,68,68,0.18)" if matrix[t, p] else "transparent")
            tds.append(f"<td data-true='{t}' data-predicted='{p}' style='vertical-align:top;"
                       f"padding:3px;border:1px solid rgba(138,143,152,0.3);background:{colour};"
                       f"min-width:40px'><b>{matrix[t, p]}</b><br>{pictures}</td>")
        rows.append(f"<tr><th style='padding:2px 4px;text-align:right;font-weight:normal'>{c}"
                    f"</th>{''.join(tds)}</tr>")
    per_class = " · ".join(f"{html.escape(c)} {_pct(a)}"
                           for c, a in validation["per_class"].items())
    accuracy = validation["accuracy"]
    return (f"<p><b>{NAMES[method]}</b>: {_pct(accuracy)} of {validation['n']} held-out "
            f"drawings right. Per class: {per_class}.</p>"
            "<div style='overflow-x:auto;max-width:100%'><table id='tl-matrix' "
            "style='border-collapse:collapse;font-size:12px'>"
            f"<tr><th>true ↓ said →</th>{head}</tr>{''.join(rows)}</table></div>")



# ---------------------------------------------------------------------------------------------
# The architecture, as each way trains it


LAYERS = [("conv1", "conv 3 × 3, 32", "28 × 28 × 32"), ("conv2", "conv 3 × 3, 32 + batch norm",
          "28 × 28 × 32"), ("pool1", "max pool 2 × 2", "14 × 14 × 32"),
          ("conv3", "conv 3 × 3, 64", "14 × 14 × 64"), ("conv4", "conv 3 × 3, 64 + batch norm",
          "14 × 14 × 64"), ("pool2", "max pool 2 × 2", "7 × 7 × 64"),
          ("fc1", "dense, 128", "128"), ("fc2", "dense, one per class", "")]
KINDS = {"frozen": ("#94a3b8", "frozen: the digit network's, unchanged"),
         "tuned": ("#a855f7", "the digit network's, trained further"),
         "new": ("#f97316", "new: random, then trained"),
         "none": ("transparent", "")}


def layer_kind(method: str, layer: str, freeze: int) -> str:
    if layer.startswith("pool"):
        return "none"
    frozen = transfer.frozen_names(method, freeze)
    if layer in frozen:
        return "frozen"
    if method == "scratch" or layer in transfer.NEW_LAYERS.get(method, ()):
        return "new"
    return "tuned"


def architecture_html(freeze: int, n_classes: int | None = None) -> str:
    """The network, layer by layer, once for each way: which layers are frozen, which start
    from the digit network and keep learning, and which are new (Teachable Machine's users
    asked to see this)."""
    rows = []
    for method in transfer.METHODS:
        cells = []
        for name, what, shape in LAYERS:
            kind = layer_kind(method, name, freeze)
            colour = KINDS[kind][0]
            out = shape or f"{n_classes or 'K'} classes"
            border = "1px dashed rgba(138,143,152,0.6)" if kind == "none" else "none"
            cells.append(f"<div title='{html.escape(what)}: {KINDS[kind][1]}' style='flex:1 1 0;"
                         f"min-width:34px;background:{colour};border:{border};border-radius:4px;"
                         "padding:3px 1px;font-size:10px;line-height:1.2;text-align:center;"
                         "overflow-wrap:anywhere;"
                         f"color:{'inherit' if kind == 'none' else 'white'}'>"
                         f"<b>{name}</b><br>{out}</div>")
        rows.append(f"<div style='margin:4px 0'><div style='font-size:12px'>{NAMES[method]}</div>"
                    f"<div style='display:flex;gap:3px'>{''.join(cells)}</div></div>")
    legend = " ".join(f"<span style='display:inline-block;width:10px;height:10px;"
                      f"background:{c};border-radius:2px'></span> {t}"
                      for c, t in (KINDS[k] for k in ("frozen", "tuned", "new")))
    return (f"<div id='tl-arch-rows'>{''.join(rows)}</div>"
            f"<div style='font-size:12px;margin-top:4px'>{legend}</div>")
