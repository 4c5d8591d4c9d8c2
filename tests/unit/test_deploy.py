"""The Space deployment without the network: what deploy_space.py would upload, and the
README's front matter that configures the Space."""

import gradio
import yaml
from conftest import ROOT

import deploy_space
from models import registry


def test_upload_holds_the_app_and_its_weights_and_nothing_else():
    files = deploy_space.files_to_upload(ROOT)
    for needed in ("app.py", "requirements.txt", "README.md", "demos/digits/__init__.py",
                   "models/registry.py", "demos/examples/digits/7.png"):
        assert needed in files
    weights = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "models/weights").rglob("*")
                     if p.is_file())
    assert weights and set(weights) <= set(files)
    assert not [f for f in files if f.startswith(("tests/", ".git", ".ci/", ".hypothesis"))
                or "__pycache__" in f or f == "deploy_space.py"]


def test_front_matter_configures_a_gradio_space():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py"
    assert meta["sdk_version"] == gradio.__version__
    assert str(meta["python_version"]) >= "3.11"
    hub = sorted(s.source for specs in registry.HUB.values() for s in specs)
    assert sorted(meta["models"]) == hub and sorted(meta["preload_from_hub"]) == hub
    for key in ("title", "emoji", "colorFrom", "colorTo", "short_description", "license"):
        assert meta[key]
    assert len(meta["short_description"]) <= 60
