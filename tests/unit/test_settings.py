"""Settings declared once (models/settings.py): the trainer's schema gives its endpoint's keyword
arguments, its checks, its controls and its address."""

import inspect

import gradio as gr
import pytest

from demos import forms as ui
from demos.learning import network as net
from models import learning
from models.settings import LIST, ROWS, Schema, Setting

# The API's keyword arguments, in the order the README's API section has always given them.
TRAIN_NETWORK = ("dataset", "noise", "layers", "activation", "learning_rate", "batch_size",
                 "steps", "seed", "show_test_points", "features", "regularization",
                 "regularization_rate", "problem", "train_share", "optimizer", "points", "loss",
                 "dropout", "momentum", "beta1", "beta2", "show_neurons", "run")


def test_the_endpoint_takes_the_schemas_settings_as_keyword_arguments():
    parameters = inspect.signature(net.train_network).parameters
    assert tuple(parameters) == TRAIN_NETWORK
    assert {k: p.default for k, p in parameters.items() if k != "run"} == \
        learning.SETTINGS.defaults
    assert inspect.isasyncgenfunction(net.train_network)


def test_every_default_passes_its_own_check():
    checked = learning.SETTINGS.check({})
    assert learning.Config.of(checked) == learning.Config.checked()
    assert checked["layers"] == learning.DEFAULT.layers and checked["features"] == ("x1", "x2")


@pytest.mark.parametrize("name, bad, words", [
    ("noise", "lots", "Noise must be a number"), ("seed", 2.5, "whole number"),
    ("show_neurons", 1, "true or false"), ("optimizer", "sgd!", "Unknown optimizer"),
    ("features", [], "at least one input feature"), ("points", "1,2,0", "list of"),
])
def test_a_bad_value_is_refused_by_its_settings_check(name, bad, words):
    with pytest.raises(ValueError, match=words):
        learning.SETTINGS.check({name: bad})


def test_the_address_reads_what_it_writes():
    s = learning.SETTINGS
    values = {"layers": "4, 4", "features": ["x1", "x1x2"], "learning_rate": 0.003,
              "show_test_points": True, "regularization_rate": 0.0,
              "points": [[0.1, -0.5, 1.0], [0.25, 0.5, 0.0]], "beta2": 0.99}
    written = s.write(values)
    # What equals its default is left out (0.0 is written "0", as the browser writes it).
    assert "regularization_rate" not in written
    assert written["points"] == "0.1,-0.5,1;0.25,0.5,0" and written["show_test_points"] == "true"
    read = s.read({**written, "tab": "learning", "unknown": "x"})
    assert set(read) == set(written)
    assert s.check(read) == s.check(values)


def test_an_emptied_control_is_left_out_of_the_address_unless_empty_means_something():
    s = learning.SETTINGS
    assert s.by_name["layers"].takes_empty and not s.by_name["seed"].takes_empty
    assert s.write({"seed": None, "steps": "", "layers": ""}) == {"layers": ""}
    # A link with an emptied seed (as the page wrote them before) restores the rest.
    assert s.read({"seed": "", "dataset": "xor", "layers": ""}) == {"dataset": "xor",
                                                                    "layers": ""}
    assert '"layers"' in net.ADDRESS_JS.split("takesEmpty = ")[1].split(";")[0]


def test_a_control_is_made_from_its_setting():
    with gr.Blocks():
        controls = {x.name: ui.control(x, elem_id=f"x-{x.name}") for x in learning.SETTINGS}
    assert isinstance(controls["noise"], gr.Slider)
    assert (controls["noise"].minimum, controls["noise"].maximum) == learning.NOISE_RANGE
    assert isinstance(controls["optimizer"], gr.Radio)
    assert [v for _, v in controls["optimizer"].choices] == list(learning.OPTIMIZERS)
    assert isinstance(controls["features"], gr.CheckboxGroup)
    assert controls["layers"].value == "8, 8, 8" and controls["points"].visible is False
    assert controls["learning_rate"].value == learning.DEFAULT.learning_rate


def test_a_schema_refuses_two_settings_of_one_name_and_names_unknown_ones():
    with pytest.raises(AssertionError):
        Schema(Setting("a", 1, "A"), Setting("a", 2, "A again"))
    s = Schema(Setting("a", 1, "A"), Setting("b", [], "B", form=LIST),
               Setting("c", None, "C", form=ROWS))
    with pytest.raises(AssertionError, match="not settings"):
        s.values(d=1)
    assert s.values(b=["x"]) == [1, ["x"], None]
    assert s.read({"b": "x,,y", "c": "1,2;3,oops"}) == {"b": ["x", "y"], "c": [[1, 2], "3,oops"]}


def test_the_address_script_has_every_setting_and_its_default():
    js = net.ADDRESS_JS
    for setting in learning.SETTINGS:
        assert f'"{setting.name}"' in js
    assert '"layers": "8, 8, 8"' in js and '"regularization_rate": "0"' in js
    assert "__" not in js  # every placeholder filled
