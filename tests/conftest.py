"""Shared fixtures, and the tiers. The suite runs offline: these variables are set before
anything imports transformers, huggingface_hub or gradio.

Tiers follow the folder a test lives in: tests/unit (no server), tests/api (the app or a small
gradio app on loopback, called over HTTP), tests/browser (headless Chromium), tests/slow (the
model-quality checks on held-out data, training runs, the whole bad-input catalogue). Each
test gets its folder's marker, so `-m "unit or api"` is the quick run for the inner loop.
"""

import os
import shutil
import sys
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(__file__).parent / "data"

import pytest  # noqa: E402

TIERS = ("unit", "api", "browser", "slow")


def strict_figure(plot) -> dict:
    """A gr.Plot value's figure, read as a browser's JSON.parse would (which refuses NaN and
    infinities) and checked by plotly.py, which rejects an unknown property."""
    import json

    import plotly.graph_objects as go

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    data = json.loads(plot.plot, parse_constant=refuse)
    go.Figure(data)
    return data


def _tier(item) -> str:
    return Path(str(item.fspath)).parent.name


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = _tier(item)
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.nodeid}: a test lives in tests/<tier>/, one of "
                                    f"{', '.join(TIERS)}")
        item.add_marker(getattr(pytest.mark, tier))
    # The quick tiers first (a broken unit fails in seconds), the browser last; in it, the
    # embed pages first (they are the quicker to fail).
    order = ("unit", "api", "slow", "browser")
    items.sort(key=lambda item: (order.index(_tier(item)),
                                 "test_embed.py" not in item.nodeid))


@pytest.fixture(scope="session")
def app_url():
    """The whole app, launched once in this process on a free port."""
    import app

    demo = app.build_app()
    _, url, _ = app.launch(demo, prevent_thread_lock=True, server_name="127.0.0.1",
                           server_port=None, quiet=True)
    yield url.rstrip("/")
    demo.close()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium (Debian's) for every browser test: Playwright's sync API allows
    only one instance at a time."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()
