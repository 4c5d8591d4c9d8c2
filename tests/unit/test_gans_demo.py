"""The GANs tab's frames: valid plotly figures (strict JSON: a browser's JSON.parse refuses NaN),
drawn from the run's own numbers, and the sentences."""

import pytest
from conftest import strict_figure as strict

import demos.gans as tab
from models import gans


@pytest.mark.parametrize("steps", [0, 3])
@pytest.mark.parametrize("loss", list(gans.LOSSES))
def test_a_frame_is_strict_json_at_step_0_and_after(steps, loss):
    run = gans.PlaneRun(loss=loss, seed=1)
    for _ in range(steps):
        run.step()
    plane, curves, status, numbers = tab.frame(run)
    plane, curves = strict(plane), strict(curves)
    heat = plane["data"][0]
    assert heat["type"] == "heatmap" and heat["z"] == run.heatmap()["d"]
    fakes = plane["data"][-1]
    assert len(fakes["x"]) == gans.SHOWN
    assert numbers["step"] == steps and f"Step {steps}" in status


def test_arrows_are_capped_and_point_where_the_loss_pushes():
    state = {"heatmap": {"axis": [0, 1], "d": [[0, 0], [0, 0]]}, "noise_grid": [],
             "real": [], "fakes": [[0.0, 0.0], [0.5, 0.5]], "push": [[100.0, 0.0], [0.0, 1.0]],
             "step": 1}
    plane = strict(tab.plane_figure(state))
    shafts = next(t for t in plane["data"] if t.get("name") == "arrows")
    assert shafts["x"][:2] == [0.0, gans.ARROW_CAP] and shafts["y"][:2] == [0.0, 0.0]
    assert shafts["x"][3:5] == [0.5, 0.5]
    assert shafts["y"][4] == pytest.approx(0.5 + gans.ARROW_SCALE)


def test_a_drawn_distribution_with_too_few_points_asks_for_more():
    plane, _, note, _, run = tab.reset(None, **{**gans.SETTINGS.defaults, "distribution": "drawn",
                                               "points": [[0, 0]]})
    assert run is None and "at least 5 are needed" in note
    assert strict(plane)["data"][0]["x"] == [0]


def test_points_are_read_from_the_clicked_or_typed_text_and_bad_ones_refused():
    assert tab.read_points("0, 0; 0.25, -0.5;") == [[0, 0], [0.25, -0.5]]
    assert tab.read_points("  ") == []
    from gradio import Error
    for bad in ("1, 2, x", "9, 9", "nan, 0", "1; 2", "0, 0; " * 1001):
        with pytest.raises(Error):
            tab.read_points(bad)
