"""One-demo pages for embedding (/digits, /activations, ...), in a real browser: at a phone's
width (375 px) and a blog column's (700 px), in light and dark mode, nothing overflows sideways,
every control is on screen, and the page asks nothing of any server but ours; and each demo, and
the whole app, in gradio's `<gradio-app>` web component on someone else's page. (The `browser`
fixture, one Chromium for the whole session, is in conftest.py.)"""

import os
import time

import pytest

SHOTS = os.environ.get("SCREENSHOT_DIR")
# Each demo page, what shows it is ready, and one thing a reader would do there.
PAGES = {  # tests/api/test_embed_config.py checks the same pages' configs
    "digits": ("#digit-sketchpad canvas", "#digit-examples button.gallery-item", "#digit-label h2"),
    "activations": ("#act-plot .js-plotly-plot", "#act-functions label:nth-child(4)",
                    "#act-plot .js-plotly-plot"),
    "learning": ("#train-boundary .js-plotly-plot", "#train-step",
                 "#train-status :text('One step on a batch')"),
    "generation": ("#gen-chart .js-plotly-plot", "#gen-step", "#gen-tokens .np-token"),
    "tokens": ("#tok-near .js-plotly-plot", "#tok-near-model label:has-text('Shakespeare')",
               "#tok-near .gtitle:text('shakespeare-gpt')"),
    "inside": ("#in-attention .js-plotly-plot", "#in-part label:has-text('position')",
               "#in-knock-message :text('the position embeddings knocked out')"),
    "quantization": ("#q-qat .js-plotly-plot", "#q-outlier",
                     "#q-number-steps :text('absmax = 48;')"),
    "sentiment": ("#sent-label h2", "#sent-compare", "#sent-b-out-label h2"),
    "attention": ("#att-heatmap .js-plotly-plot", "#att-pair-toggle input",
                  "#att-causal .js-plotly-plot"),
    "recurrent": ("#recurrent-arithmetic", "#recurrent-unroll-cell label:has-text('GRU')",
                  "#recurrent-arithmetic :text('reset gate')"),
    "gans": ("#gan-plane .js-plotly-plot", "#gan-step", "#gan-status :text('Step 1:')"),
    "transfer": ("#tl-set img", "#tl-step", "#tl-status :text('step 1 ')"),
    "evaluation": ("#ev-matrix table", "#ev-step", "#ev-status :text('epoch 1 of')"),
}
OFFSCREEN_CONTROLS = """() => [...document.querySelectorAll(
    'button, input, textarea, select, [role=tab], canvas')].filter(e => {
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && (r.left < -1 || r.right > window.innerWidth + 1);
}).map(e => `${e.tagName} ${e.id || e.getAttribute('aria-label') || ''}`)"""


@pytest.mark.parametrize("slug", list(PAGES))
def test_demo_page_fits_a_phone_and_a_column_in_both_themes(browser, app_url, slug):
    ready, action, after = PAGES[slug]
    for width in (375, 700):
        for scheme in ("light", "dark"):
            context = browser.new_context(viewport={"width": width, "height": 900},
                                          color_scheme=scheme)
            page = context.new_page()
            requests = []
            page.on("request", lambda r, seen=requests: seen.append(r.url))
            page.goto(f"{app_url}/{slug}")
            page.wait_for_selector(ready, timeout=30_000)
            assert page.locator("[role=tab]:visible").count() == 0  # this demo alone, no tabs
            if (width, scheme) == (375, "light"):  # use it once, as a reader would
                page.locator(action).first.click()
                page.wait_for_selector(after, timeout=30_000)
            page.wait_for_timeout(300)
            widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
            assert widths[0] <= widths[1], (slug, width, scheme, widths)
            assert page.evaluate(OFFSCREEN_CONTROLS) == [], (slug, width, scheme)
            dark = page.evaluate("() => document.body.classList.contains('dark') || "
                                 "document.querySelector('.dark') !== null")
            assert dark == (scheme == "dark"), (slug, scheme)
            if SHOTS:
                page.screenshot(path=os.path.join(SHOTS, f"embed-{slug}-{width}-{scheme}.png"),
                                full_page=True)
            outside = [u for u in requests if not u.startswith(app_url)
                       and not u.startswith(("data:", "blob:"))]
            assert outside == [], (slug, outside)
            context.close()


# The whole app in a web component: the Digits tab shows first.
WHOLE_APP = ("#digit-sketchpad canvas", "#digit-examples button.gallery-item >> nth=7",
             "#digit-label h2:text-is('7')")


@pytest.fixture(scope="module")
def blog():
    """Someone else's blog, on another port: serves whatever page the test puts in `posts`."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    posts = {}

    class Blog(BaseHTTPRequestHandler):
        def do_GET(self):
            body = posts.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Blog)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", posts
    server.shutdown()


@pytest.mark.parametrize("slug", ["", *PAGES])
def test_the_web_component_shows_a_demo_or_the_app_in_a_blog_page(browser, app_url, blog, slug):
    """`<gradio-app src=".../learning">` (or the whole app, src=".../") in a blog post on
    another port, its script from this server (the one gradio's gradio.js would import),
    nothing from a CDN: that demo alone appears, and answers when used."""
    import re

    import httpx

    ready, action, after = PAGES.get(slug, WHOLE_APP)
    script = re.search(r'src="\./(assets/index-[^"]+\.js)"', httpx.get(app_url).text).group(1)
    base, posts = blog
    posts[f"/{slug or 'app'}.html"] = (
        f'<!doctype html><meta charset="utf-8"><h1>A blog post</h1><p>Text.</p>'
        f'<script type="module" src="{app_url}/{script}"></script>'
        f'<gradio-app src="{app_url}/{slug}" initial_height="900px"></gradio-app>').encode()
    page = browser.new_page(viewport={"width": 700, "height": 1000})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{base}/{slug or 'app'}.html")
        page.wait_for_selector(f"gradio-app {ready}", timeout=60_000)
        # Only this demo: no tabs, no navigation bar (the whole app has its tabs).
        assert (page.locator("gradio-app [role=tab]:visible").count() > 0) == (slug == "")
        assert page.get_by_role("link", name="Home").count() == 0
        # The component mounts in stages: a click that comes before its events are wired does
        # nothing, so click again (every 5 s, for up to 90 s) until the answer shows. Clicking
        # twice asks the same question twice: the answer is the same.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            page.locator(f"gradio-app {action}").first.click()
            try:
                page.wait_for_selector(f"gradio-app {after}", timeout=5_000)
                break
            except Exception:
                continue
        assert page.locator(f"gradio-app {after}").count() > 0, slug
        assert errors == [], errors
        assert [u for u in requests
                if not u.startswith((app_url, base, "data:", "blob:"))] == []
    finally:
        page.close()
