"""demos/learning: figures from plain numbers, and the handlers that keep the tab's run."""

import json

import gradio as gr
import plotly.graph_objects as go
import pytest

from demos import learning as tab
from demos import plots
from demos.learning import network as net
from models import learning, runner


def load(plot):
    return go.Figure(json.loads(plot.plot))  # plotly's validation rejects unknown properties


def test_hill_figure_from_made_up_numbers():
    grid = {"w": [-1, 0, 1], "cost": [[2, 1, 2], [1, 0, 1], [2, 1, 2]],
            "minima": [{"w": [0, 0], "cost": 0}]}
    result = {"path": [[1, 1], [0.5, 0.5]], "slopes": [[2, 2], [1, 1]], "steps_taken": 1}
    fig = load(tab.hill_figure(grid, result, "test"))
    assert list(fig.data[1].x) == [1, 0.5]
    arrow = fig.layout.annotations[0]
    assert (arrow.x - arrow.ax) < 0 and (arrow.y - arrow.ay) < 0  # points downhill, to (0, 0)


def test_hill_figure_leaves_out_points_off_the_map():
    grid = {"w": [-1, 0, 1], "cost": [[0] * 3] * 3, "minima": []}
    result = {"path": [[1, 1], [-3, 9], [float("inf"), 0]], "slopes": [[1, 1]] * 3,
              "steps_taken": 2}
    fig = load(tab.hill_figure(grid, result, "test"))
    assert list(fig.data[1].x) == [1] and not fig.layout.annotations


def test_boundary_figure_from_made_up_numbers():
    boundary = {"x": [-1.0, 1.0], "p": [[0.1, 0.9], [0.2, 0.8]]}
    data = {"x_train": [[0, 0], [1, 1]], "y_train": [0, 1], "x_test": [[0.5, 0.5]],
            "y_test": [1]}
    fig = load(net.boundary_figure(boundary, data, "t"))
    assert fig.data[0].z[0][1] == 0.9
    assert list(fig.data[1].marker.color) == [net.BLUE, net.ORANGE]
    assert len(fig.data) == 2  # the test points only when asked for
    fig = load(net.boundary_figure(boundary, data, "t", show_test=True))
    assert fig.data[2].marker.line.color == (net.ORANGE,)  # test points: hollow, class colour


def test_loss_figure_and_status():
    run = learning.Training(learning.Config.checked(layers="4"), 0.3, 10)
    out = net.frame(run)
    assert load(out[1]).layout.yaxis.type == "log"
    assert "Step 0" in out[2] and "Ready" in out[2]


def test_tiny_figure_draws_every_weight_with_its_nudge():
    params = learning.tiny_network(0)
    example = learning.backprop(params, [0.5, -0.5], 1)
    fig = load(tab.tiny_figure(params, example))
    lines = [t for t in fig.data if t.mode == "lines"]
    assert len(lines) == 12  # 2x3 + 3x2 weights
    g = example["gradients"]["W1"][0][0]
    assert lines[0].line.color == (tab.ORANGE if g < 0 else tab.BLUE)


def args(**given):
    """Every setting's value as the tab passes them (the schema's order)."""
    return net.SETTINGS.values(**{"layers": "4", **given})


def test_the_tab_keeps_its_run_and_changes_the_rate_without_a_reset():
    *_, run = net.reset(*args(), None)
    *_, run = net.step_once(*args(), run)
    assert run.steps == 1
    out = net.reconfigure(*args(learning_rate=0.01, batch_size=50, regularization="l2",
                                regularization_rate=0.1), run)
    assert out[-1] is run and run.learning_rate == 0.01 and run.regularization == "l2"
    assert run.batch_size == 50 and run.steps == 1
    # Play goes on from the same run...
    assert net.prepare(*args(learning_rate=0.01, batch_size=50), run) is run
    # ...unless the network's settings changed.
    fresh = net.prepare(*args(dataset="xor"), run)
    assert fresh is not run and run.stopped and fresh.steps == 0


def test_pause_while_playing_is_drawn_by_the_stream_as_its_last_frame():
    """Pause's frame must come after every frame of the stream it pauses: the stream draws it."""
    import threading

    *_, run = net.reset(*args(), None)
    run = net.prepare(*args(), run)
    stream = runner.iterate(net.train_network("circles", 0.05, "4", "tanh", 0.3, 10, 20000, 0,
                                              run=run))
    frames = [next(stream)]
    rest = []
    reader = threading.Thread(target=lambda: rest.extend(stream))
    reader.start()
    paused = net.pause(False, True, run)
    reader.join(timeout=10)
    assert not reader.is_alive() and run.status == "paused"
    assert all(isinstance(o, type(gr.skip())) for o in paused)  # the stream draws it instead
    last = (frames + rest)[-1]
    assert "Paused" in last[2] and f"**Step {run.steps:,}**" in last[2]
    # Not playing: Pause draws the run itself.
    assert "Paused" in net.pause(False, True, run)[2]


def test_leaving_the_layers_box_unchanged_changes_nothing():
    *_, run = net.reset(*args(), None)
    out = net.reconfigure(*args(layers=" 4 "), run)
    assert all(isinstance(o, type(gr.skip())) for o in out[:-1]) and out[-1] is run
    *_, new = net.reconfigure(*args(layers="4, 4"), run)
    assert new.config.layers == (4, 4)


def test_a_diverged_run_starts_again_on_play():
    p = learning.PRESETS["Fails: learning rate 10"]
    layers = ", ".join(map(str, p.layers))
    frames = list(runner.iterate(net.train_network(
        p.dataset, p.noise, layers, p.activation, p.learning_rate, p.batch_size, p.steps, 0)))
    assert "the loss blew up" in frames[-1][2]
    run = learning.Training(learning.Config.checked(p.dataset, p.noise, layers, p.activation),
                            p.learning_rate, p.batch_size)
    list(runner.iterate(run.run(p.steps)))
    assert run.status == "diverged"
    again = net.prepare(*args(dataset=p.dataset, noise=p.noise, layers=layers,
                              activation=p.activation, learning_rate=0.1), run)
    assert again is not run and again.steps == 0


@pytest.mark.parametrize("name", list(learning.PRESETS))
def test_every_preset_sets_every_control(name):
    out = net.apply_preset(name, *args(), None)
    preset = learning.PRESETS[name]
    shown = dict(zip(net.SHOWN, out))
    assert (shown["dataset"], shown["noise"], shown["layers"], shown["activation"],
            shown["steps"]) == (preset.dataset, preset.noise,
                                ", ".join(map(str, preset.layers)), preset.activation,
                                preset.steps)
    assert preset.why in out[len(net.SHOWN)] and out[-1].config.dataset == preset.dataset


def test_unknown_preset_is_a_gradio_error():
    with pytest.raises(gr.Error):
        net.apply_preset("everything at once", *args(), None)


def test_take_step_lowers_the_cost_of_the_batch():
    args = ("xor", 0.05, 3, 8, 1.0, "tanh")
    _, _, table, params = tab.backprop_step(*args)
    _, _, table2, new = tab.take_step(*args, params)
    assert new != params
    assert [row[1] for row in table2] == pytest.approx([row[-1] for row in table], abs=1e-5)


# -- the trainer's new pictures, points, downloads and address -----------------------------------


def test_network_picture_has_every_neuron_and_every_weight():
    import re
    import xml.etree.ElementTree as ET

    run = learning.Training(learning.Config.checked(layers="4, 3", features=["x1", "x2", "x1^2"]))
    svg = net.network_svg(run.neurons(), run.config, run.classes)
    root = ET.fromstring(svg)  # well-formed
    ns = "{http://www.w3.org/2000/svg}" if root.tag.startswith("{") else ""
    assert len(root.findall(f"{ns}image")) == 3 + 4 + 3
    lines = root.findall(f"{ns}line")
    assert len(lines) == 3 * 4 + 4 * 3 + 3 * 2  # every weight, once
    w = run.layers[0].weight[1, 2].item()  # input 3 (x1²) to neuron 2 of layer 1
    assert lines[1 * 3 + 2].find(f"{ns}title").text == f"weight {w:+.3f}"
    assert re.match(r"data:image/png;base64,", root.find(f"{ns}image").get("href"))
    assert "x₁²" in svg and "class 1" in svg


def test_a_neuron_picture_is_its_map_in_colour():
    import base64
    import io

    from PIL import Image

    z = [[-1.0, 0.0], [1.0, 1.0]]  # row 0 is the bottom of the plane
    uri = plots.heat_png(z, net.NEURON_SCALE, -1, 1)
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",")[1]))).convert("RGB")
    assert image.size == (2, 2)
    assert image.getpixel((0, 1)) == (0x25, 0x63, 0xeb)  # -1: blue, bottom left
    assert image.getpixel((0, 0)) == (0xf9, 0x73, 0x16)  # +1: orange, top left


def test_boundary_figures_for_three_classes_and_for_regression():
    three = learning.Training(learning.Config.checked(dataset="three", layers="4"))
    fig = load(net.boundary_figure(three.boundary(9), three.data(), "t", classes=3))
    assert fig.data[0].zmax == 3 and max(max(r) for r in fig.data[0].z) < 3
    assert len(set(fig.data[1].marker.color)) == 3
    plane = learning.Training(learning.Config.checked(dataset="plane", problem="regression"))
    fig = load(net.boundary_figure(plane.boundary(9), plane.data(), "t", classes=1))
    assert fig.data[0].zmin == -1 and fig.data[1].marker.colorscale


def test_own_points_are_added_typed_or_clicked_and_capped():
    points, note, box = net.add_point("0.5, -0.25", 2, 0.0, "classification", [])
    assert points == [[0.5, -0.25, 2]] and "class 2: 1" in note and box == ""
    points, _, _ = net.add_point("-1, 1", 0, 0.7, "regression", points)
    assert points[-1] == [-1.0, 1.0, 0.7]
    with pytest.raises(gr.Error, match="two numbers"):
        net.add_point("left", 0, 0, "classification", [])
    with pytest.raises(gr.Error, match="square"):
        net.add_point("3, 0", 0, 0, "classification", [])
    with pytest.raises(gr.Error, match="At most 500"):
        net.add_point("0, 0", 0, 0, "classification", [[0, 0, 0]] * 500)
    assert net.points_in_use("circles", points) == [] and net.points_in_use("own", points)


def test_a_csv_of_points_is_read_with_or_without_a_header(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("x1,x2,label\n0.1,0.2,0\n-0.5,0.5,1\n0.3,-0.3,1\n0,0,0\n")
    points, note = net.read_csv(str(path), "classification")
    assert points[1] == [-0.5, 0.5, 1] and "4 points" in note
    path.write_text("0.1,0.2\n")
    with pytest.raises(gr.Error, match="could not be used"):
        net.read_csv(str(path), "classification")


def test_downloads_are_the_picture_and_every_frame_in_numbers():
    from PIL import Image

    *_, run = net.reset(*args(), None)
    for _ in range(3):
        run.step()
        run.record()
    picture, table = net.downloads(False, run)
    image = Image.open(picture)
    assert image.size == (480, 480) and len(set(image.getdata())) > 10
    rows = open(table).read().splitlines()
    assert rows[0].startswith("step,train_loss") and len(rows) == 1 + len(run.history)
    with pytest.raises(gr.Error, match="Nothing to save"):
        net.downloads(False, None)


class Request:
    def __init__(self, query):
        self.query_params = query


def test_an_address_restores_the_settings_and_the_seeded_run():
    query = {"dataset": "xor", "layers": "4,4", "seed": "3", "features": "x1,x2,x1x2",
             "regularization": "l2", "regularization_rate": "0.01", "learning_rate": "0.1",
             "optimizer": "adam", "train_share": "0.3", "tab": "learning"}
    out = net.restore(Request(query), *args(), None)
    settings = dict(zip(net.SHOWN, out))
    assert settings["dataset"] == "xor" and settings["layers"] == "4, 4"
    assert settings["seed"] == 3 and settings["features"] == ["x1", "x2", "x1x2"]
    assert settings["learning_rate"] == 0.1 and settings["optimizer"] == "adam"
    run = out[-1]
    same = learning.Training(learning.Config.checked(
        "xor", layers="4,4", seed=3, features=["x1", "x2", "x1x2"], optimizer="adam",
        train_share=0.3), 0.1, 10, "l2", 0.01)
    assert run.config == same.config and torch_equal(run, same)
    # Nothing in the address: nothing changes; a bad setting: a warning, nothing changes.
    nothing = net.restore(Request({}), *args(), None)
    assert len(nothing) == len(out) and all(isinstance(o, type(gr.skip())) for o in nothing)
    assert all(isinstance(o, type(gr.skip())) for o in net.restore(
        Request({"layers": "99"}), *args(), None))
    assert net.first_fill(Request(query), *args(), None)[0] == gr.skip()


def torch_equal(a, b) -> bool:
    return all((p == q).all() for p, q in zip(a.layers.parameters(), b.layers.parameters()))


def test_points_in_the_address_are_your_points():
    out = net.restore(Request({"points": "0.1,0.2,0;0.5,0.5,1;-0.5,0.4,1;0,0,0"}), *args(),
                      None)
    settings = dict(zip(net.SHOWN, out))
    assert settings["dataset"] == "own" and out[-1].config.points[0] == (0.1, 0.2, 0)


def test_transformer_figures_are_valid_plotly():
    from demos.learning import transformer as lt_tab

    curve, attention, predictions, status, numbers = lt_tab.reset("repeat", 2, 2, 0, None)[:5]
    fig = load(attention)
    assert len([t for t in fig.data if t.type == "heatmap"]) == 4
    assert len(load(curve).data) == 2 and "Step 0" in status and numbers["step"] == 0
    assert predictions.count("<b>") == 24


def test_figures_carry_rounded_numbers_and_none_where_not_finite():
    assert plots.rounded([0.123456, [1 / 3, float("nan")], float("inf")], 3) == [
        0.123, [0.333, None], None]
