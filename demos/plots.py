"""Plotly figures shared by the tabs. They take plain numbers and lists, never models."""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import math

import numpy as np
import plotly.graph_objects as go
from gradio.components.plot import PlotData  # noqa: F401  (re-exported for type hints)

# gr.Plot does not follow gradio's dark mode, so figures are transparent with a mid-grey font
# that reads on both a light and a dark page.
FONT_COLOR = "#8a8f98"
GRID_COLOR = "rgba(138, 143, 152, 0.25)"
ACCENT = "#f97316"  # the predicted / selected item
BASE = "#60a5fa"
# Blue negative, grey zero, orange positive: the app's two colours, apart for colour-blind eyes.
# Attention weights, 0 to 1, in every tab that shows them. Cividis: designed to read the same
# with the common colour-vision deficiencies, and in grey.
ATTENTION_COLORSCALE = "Cividis"
TICKS = 40  # at most this many tick labels on an axis; hover still names every token
DIVERGING = [[0.0, "#2563eb"], [0.5, "#d1d5db"], [1.0, "#f97316"]]


def style(fig: go.Figure, height: int = 320, **layout) -> go.Figure:
    layout = {"margin": dict(l=40, r=20, t=40, b=40), **layout}
    fig.update_layout(
        height=height,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=dict(color=FONT_COLOR),
        **layout,
    )
    fig.update_xaxes(gridcolor=GRID_COLOR, zerolinecolor=GRID_COLOR)
    fig.update_yaxes(gridcolor=GRID_COLOR, zerolinecolor=GRID_COLOR)
    return fig


# What figures written as JSON take from plotly's default template: the parts that shape a 2-D
# chart (plotly.py embeds the whole 7 KB template, 3D scenes and maps included, in every figure;
# every byte travels to each visitor, on every stroke in the Digits tab).
TEMPLATE_KEYS = ("autotypenumbers", "colorway", "hovermode", "hoverlabel", "xaxis", "yaxis",
                 "coloraxis", "shapedefaults", "annotationdefaults", "title")


@functools.cache
def _template() -> dict:
    import plotly.io as pio

    layout = pio.templates["plotly"].to_plotly_json()["layout"]
    return {"layout": {k: layout[k] for k in TEMPLATE_KEYS}}


@functools.cache
def colorscale(name: str) -> list:
    """A plotly.py named colour scale as [[position, colour], ...]: plotly.js, which draws
    figures written as JSON, knows only a few names (not "Oranges", for one)."""
    import plotly.colors

    return plotly.colors.get_colorscale(name)


def figure(data: list[dict], height: int = 320, **layout) -> PlotData:
    """A plotly figure written as JSON directly, styled as `style` does, for gr.Plot.

    go.Figure validates every property as it is set: 12-19 ms for each of the Digits tab's
    figures, against about 1 ms here. The price is that nothing checks the names here, so the
    tests load these figures back into go.Figure, which rejects an unknown property.
    """
    axis = {"gridcolor": GRID_COLOR, "zerolinecolor": GRID_COLOR}
    layout = {
        "template": _template(), "height": height, "margin": dict(l=40, r=20, t=40, b=40),
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": FONT_COLOR},
        **layout,
        "xaxis": {**axis, **layout.get("xaxis", {})},
        "yaxis": {**axis, **layout.get("yaxis", {})},
    }
    if isinstance(layout.get("title"), str):
        layout["title"] = {"text": layout["title"]}
    return PlotData(type="plotly", plot=json.dumps({"data": data, "layout": layout}))


def probability_bars(probabilities: dict[str, float], title: str = "",
                     x_title: str = "") -> PlotData:
    """One bar per class, the most likely one highlighted, with the value on each bar."""
    labels = list(probabilities)
    values = [float(probabilities[k]) for k in labels]
    best = max(range(len(values)), key=values.__getitem__) if values else -1
    bars = {
        "type": "bar", "x": labels, "y": values,
        "marker": {"color": [ACCENT if i == best else BASE for i in range(len(values))]},
        "text": [f"{v:.0%}" if v >= 0.005 else "" for v in values], "textposition": "outside",
        "hovertemplate": "%{x}: %{y:.2%}<extra></extra>",
    }
    return figure([bars], title=title,
                  yaxis={"range": [0, 1.12], "tickformat": ".0%", "title": {"text": "probability"}},
                  xaxis={"type": "category", "title": {"text": x_title}})


def grayscale_image(pixels: list[list[float]], title: str = "") -> PlotData:
    """A small image as a heatmap, so each pixel's value shows on hover."""
    image = {
        "type": "heatmap", "z": pixels, "colorscale": [[0, "black"], [1, "white"]],
        "zmin": 0, "zmax": 1, "showscale": False,
        "hovertemplate": "row %{y}, column %{x}: %{z:.2f}<extra></extra>",
    }
    return figure([image], height=300, title=title, margin=dict(l=10, r=10, t=40, b=10),
                  yaxis={"autorange": "reversed", "scaleanchor": "x", "showgrid": False,
                         "visible": False},
                  xaxis={"showgrid": False, "visible": False, "constrain": "domain"})


def empty(message: str, height: int = 300) -> PlotData:
    """A blank figure that says why it is blank."""
    note = {"text": message, "showarrow": False, "font": {"size": 14}}
    return figure([], height=height, annotations=[note], xaxis={"visible": False},
                  yaxis={"visible": False})


def token_label(token: str) -> str:
    """A token as a label, the same in every tab: a leading space as "␣", a newline as "↵", a
    tab as "⇥" (each matters to the model), an empty token as "∅"."""
    return (token.replace(" ", "␣", 1) if token.startswith(" ") else token).replace(
        "\n", "↵").replace("\t", "⇥") or "∅"


def token_spans(shown: list[str], titles: list[str], marked=(), raw=()) -> str:
    """Tokens as boxes in two alternating greys (so that each shows), a title on hover;
    `marked` indexes get an orange outline, `raw` ones (bytes, not text) a dashed border."""
    spans = []
    for n, (token, title) in enumerate(zip(shown, titles)):
        shade = "rgba(138,143,152,0.22)" if n % 2 == 0 else "rgba(138,143,152,0.42)"
        ring = f"outline:2px solid {ACCENT};" if n in marked else ""
        dashed = "border:1px dashed #8a8f98;" if n in raw else ""
        text = html.escape(token_label(token) if token.strip() == "" or token.startswith(" ")
                           else token).replace("\n", "↵<br>")
        spans.append(f'<span class="np-token" title="{html.escape(title)}" style="background:'
                     f'{shade};{ring}{dashed}border-radius:3px;margin-right:2px">{text}</span>')
    return ('<div class="np-tokens" style="line-height:2.1;font-family:ui-monospace,monospace;'
            f'white-space:pre-wrap;word-break:break-word">{"".join(spans)}</div>')


def rounded(values, digits: int = 4):
    """Rounded numbers (nested lists too), None where not finite: figures travel to the browser
    as JSON text, and four digits are all a picture shows."""
    if isinstance(values, (list, tuple)):
        return [rounded(v, digits) for v in values]
    return round(float(values), digits) if math.isfinite(values) else None


def typed(array) -> dict:
    """A float32 array in plotly's typed-array form (base64): a quarter of the JSON text of a
    list of numbers, for the maps that carry tens of thousands of them."""
    import numpy as np

    a = np.ascontiguousarray(array, dtype=np.float32)
    out = {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii")}
    if a.ndim > 1:
        out["shape"] = ",".join(str(n) for n in a.shape)
    return out


def rgb(colour: str) -> tuple[int, int, int]:
    """"#rrggbb" as (r, g, b)."""
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


@functools.cache
def _palette(stops: tuple) -> list[int]:
    """256 RGB colours from a colour scale of ((position, "#rrggbb"), ...), for a "P" image."""
    out = []
    for i in range(256):
        t = i / 255
        for (a, ca), (b, cb) in zip(stops, stops[1:]):
            if a <= t <= b:
                f = (t - a) / (b - a) if b > a else 0.0
                out += [round(x + (y - x) * f) for x, y in zip(rgb(ca), rgb(cb))]
                break
    return out


def heat_png(z: list[list[float]], scale: list, zmin: float, zmax: float) -> str:
    """A small grid of numbers as a PNG picture (a data: URI, row 0 at the bottom, as a plotly
    heatmap draws it), coloured by `scale` (stops in "#rrggbb") from zmin to zmax. A figure
    with dozens of tiny maps draws them as layout images: as many heatmap traces take a
    browser far longer to draw on every frame."""
    from PIL import Image

    rows = [[min(max(round((v - zmin) / (zmax - zmin) * 255), 0), 255) if v == v else 128
             for v in row] for row in reversed(z)]
    image = Image.new("P", (len(rows[0]), len(rows)))
    image.putpalette(_palette(tuple((float(a), c) for a, c in scale)))
    image.putdata([v for row in rows for v in row])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def gray_png(pixels) -> str:
    """A grey picture (uint8 rows, 0 black) as a PNG data: URI, for an <img> in HTML."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def picture_grid(pictures: list[tuple[str, str]], min_width: int = 110,
                 elem_class: str = "np-pictures") -> str:
    """Pictures (data: URIs) with captions in a grid that fills any width (a phone's: two or
    three a row), drawn pixel by pixel. Captions are escaped."""
    cells = "".join(
        f'<figure style="margin:0;text-align:center"><img src="{uri}" alt="{html.escape(c)}" '
        f'style="width:100%;image-rendering:pixelated;border-radius:4px">'
        f'<figcaption style="font-size:12px;line-height:1.3">{html.escape(c)}</figcaption>'
        f'</figure>' for uri, c in pictures)
    return (f'<div class="{elem_class}" style="display:grid;gap:10px;grid-template-columns:'
            f'repeat(auto-fill,minmax({min_width}px,1fr))">{cells}</div>')


def unique_labels(tokens: list[str]) -> list[str]:
    """Plotly merges equal category labels, so repeats get invisible zero-width spaces."""
    seen: dict[str, int] = {}
    out = []
    for t in tokens:
        shown = t.replace("\n", "↵").replace(" ", "␣", 1) if t.startswith(" ") else t.replace(
            "\n", "↵")
        shown = shown or "∅"
        n = seen.get(shown, 0)
        seen[shown] = n + 1
        out.append(shown + "\u200b" * n)
    return out


def thinned(labels: list[str], most: int = TICKS) -> list[str]:
    step = max(1, -(-len(labels) // most))  # ceil
    return labels[::step]


def tiles(maps: np.ndarray, columns: int) -> np.ndarray:
    """(C, H, W) maps as one (rows·(H+1) − 1, columns·(W+1) − 1) image, NaN between tiles."""
    c, h, w = maps.shape
    rows = -(-c // columns)
    grid = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan, dtype=np.float32)
    for k in range(c):
        r, q = divmod(k, columns)
        grid[r * (h + 1):r * (h + 1) + h, q * (w + 1):q * (w + 1) + w] = maps[k]
    return grid


def maps_figure(layer: dict, before: bool = False):
    maps = layer["before"] if before and "before" in layer else layer["maps"]
    if maps.ndim == 1:  # the dense layer: one strip
        data = [{"type": "heatmap", "z": typed(maps[None, :]), "colorscale": "Oranges",
                 "showscale": False, "hovertemplate": "neuron %{x}: %{z:.3f}<extra></extra>"}]
        return figure(data, height=160, title=f"{layer['name']}: 128 neurons",
                            yaxis={"visible": False}, margin=dict(l=10, r=10, t=40, b=30))
    c, h, w = maps.shape
    columns = 8
    grid = tiles(maps, columns)
    diverging = before and "before" in layer
    data = [{"type": "heatmap", "z": typed(grid), "showscale": False,
             "colorscale": DIVERGING if diverging else colorscale("Oranges"),
             **({"zmid": 0} if diverging else {"zmin": 0}),
             "hovertemplate": "value %{z:.3f}<extra></extra>"}]
    what = "before ReLU" if diverging else ("after ReLU" if "before" in layer else "")
    return figure(data, height=120 + int(560 * grid.shape[0] / grid.shape[1]),
                        title=f"{layer['name']}: {c} maps of {h} × {w} {what}",
                        xaxis={"visible": False, "constrain": "domain"},
                        yaxis={"visible": False, "autorange": "reversed", "scaleanchor": "x"},
                        margin=dict(l=10, r=10, t=40, b=10))
