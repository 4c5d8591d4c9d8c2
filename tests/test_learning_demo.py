"""demos/learning.py: figures from plain numbers, and the handlers that keep the tab's run."""

import json

import gradio as gr
import plotly.graph_objects as go
import pytest

from demos import learning as tab
from demos import learning_network as net
from models import learning


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
    return net.setting_values(**{"layers": "4", **given})


def test_the_tab_keeps_its_run_and_changes_the_rate_without_a_reset():
    *_, run = net.reset(*args(), False, True, None)
    *_, run = net.step_once(*args(), False, True, run)
    assert run.steps == 1
    out = net.reconfigure(*args(learning_rate=0.01, batch_size=50, regularization="l2",
                                regularization_rate=0.1), False, True, run)
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

    *_, run = net.reset(*args(), False, True, None)
    run = net.prepare(*args(), run)
    stream = net.train_network("circles", 0.05, "4", "tanh", 0.3, 10, 20000, 0, run=run)
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
    *_, run = net.reset(*args(), False, True, None)
    out = net.reconfigure(*args(layers=" 4 "), False, True, run)
    assert all(isinstance(o, type(gr.skip())) for o in out[:-1]) and out[-1] is run
    *_, new = net.reconfigure(*args(layers="4, 4"), False, True, run)
    assert new.config.layers == (4, 4)


def test_a_diverged_run_starts_again_on_play():
    p = learning.PRESETS["Fails: learning rate 10"]
    layers = ", ".join(map(str, p.layers))
    frames = list(net.train_network(p.dataset, p.noise, layers, p.activation, p.learning_rate,
                                    p.batch_size, p.steps, 0))
    assert "the loss blew up" in frames[-1][2]
    run = learning.Training(learning.Config.checked(p.dataset, p.noise, layers, p.activation),
                            p.learning_rate, p.batch_size)
    list(run.run(p.steps))
    assert run.status == "diverged"
    again = net.prepare(*args(dataset=p.dataset, noise=p.noise, layers=layers,
                              activation=p.activation, learning_rate=0.1), run)
    assert again is not run and again.steps == 0


@pytest.mark.parametrize("name", list(learning.PRESETS))
def test_every_preset_sets_every_control(name):
    out = net.apply_preset(name)
    preset = learning.PRESETS[name]
    assert out[:4] == (preset.dataset, preset.noise, ", ".join(map(str, preset.layers)),
                       preset.activation)
    assert preset.why in out[len(net.SETTINGS)] and out[-1].config.dataset == preset.dataset


def test_unknown_preset_is_a_gradio_error():
    with pytest.raises(gr.Error):
        net.apply_preset("everything at once")


def test_take_step_lowers_the_cost_of_the_batch():
    args = ("xor", 0.05, 3, 8, 1.0, "tanh")
    _, _, table, params = tab.backprop_step(*args)
    _, _, table2, new = tab.take_step(*args, params)
    assert new != params
    assert [row[1] for row in table2] == pytest.approx([row[-1] for row in table], abs=1e-5)
