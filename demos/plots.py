"""Plotly figures shared by the tabs. They take plain numbers and lists, never models."""

from __future__ import annotations

import plotly.graph_objects as go

# gr.Plot does not follow gradio's dark mode, so figures are transparent with a mid-grey font
# that reads on both a light and a dark page.
FONT_COLOR = "#8a8f98"
GRID_COLOR = "rgba(138, 143, 152, 0.25)"
ACCENT = "#f97316"  # the predicted / selected item
BASE = "#60a5fa"


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


def probability_bars(probabilities: dict[str, float], title: str = "",
                     x_title: str = "") -> go.Figure:
    """One bar per class, the most likely one highlighted, with the value on each bar."""
    labels = list(probabilities)
    values = [probabilities[k] for k in labels]
    best = max(range(len(values)), key=values.__getitem__) if values else -1
    fig = go.Figure(go.Bar(
        x=labels, y=values,
        marker_color=[ACCENT if i == best else BASE for i in range(len(values))],
        text=[f"{v:.0%}" if v >= 0.005 else "" for v in values], textposition="outside",
        hovertemplate="%{x}: %{y:.2%}<extra></extra>",
    ))
    fig.update_yaxes(range=[0, 1.12], tickformat=".0%", title="probability")
    fig.update_xaxes(type="category", title=x_title)
    return style(fig, title=title)


def grayscale_image(pixels: list[list[float]], title: str = "") -> go.Figure:
    """A small image as a heatmap, so each pixel's value shows on hover."""
    fig = go.Figure(go.Heatmap(
        z=pixels, colorscale="gray", zmin=0, zmax=1, showscale=False,
        hovertemplate="row %{y}, column %{x}: %{z:.2f}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showgrid=False, visible=False)
    fig.update_xaxes(showgrid=False, visible=False, constrain="domain")
    return style(fig, height=300, title=title, margin=dict(l=10, r=10, t=40, b=10))


def empty(message: str, height: int = 300) -> go.Figure:
    """A blank figure that says why it is blank."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font=dict(size=14))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, height=height)
