"""Shared fixtures. The suite runs offline: these variables are set before anything imports
transformers, huggingface_hub or gradio."""

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
