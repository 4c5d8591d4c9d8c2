"""Neural Playground: see how neural networks and language models work, by touching them.

    python app.py

Each tab is one module (or package) in demos/, declared there as a Demo (demos/__init__.py) and
listed in DEMOS; a demo joins the app by being in that list.
The app runs offline: its models ship in models/weights/.
"""

from __future__ import annotations

import os

# Before gradio is imported: no usage statistics and no version check over the network.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Before torch is imported (on the first request that needs it): one thread per request. The
# server runs several requests at once on few cores, and each request's second OpenMP thread
# only fights the others (tests/benchmarks/bench_ship.py; set it higher on a bigger machine).
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json  # noqa: E402

import gradio as gr  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from demos import (  # noqa: E402
    activations,
    attention,
    digits,
    evaluation,
    gans,
    generation,
    gpt,
    gradio_internals,
    learning,
    quantization,
    recurrent,
    sentiment,
    tokens,
    transfer,
)

DEMOS = [m.DEMO for m in (digits, activations, learning, recurrent, gans, transfer,
                          evaluation, tokens, generation, gpt, sentiment, attention,
                          quantization)]

HEADER = """
# 🧠 Neural Playground
See how neural networks and language models work, by touching them. Every model here is small,
was trained on real data, and runs on this server's CPU.
"""

# System fonts only: the default theme would fetch Google Fonts, and the app must work offline.
THEME = gr.themes.Soft(
    primary_hue="orange",
    font=[gr.themes.Font("system-ui"), gr.themes.Font("sans-serif")],
    font_mono=[gr.themes.Font("ui-monospace"), gr.themes.Font("monospace")],
)


def build_app() -> gr.Blocks:
    # These reach into gradio (demos/gradio_internals.py says why): no FastAPI app is built
    # while the app is, a new session does not copy the config of every block, and every
    # error message is escaped.
    if os.environ.get("NP_LEAN_SESSIONS", "1") != "0":  # 0: gradio's own sessions, to compare
        gradio_internals.lean_sessions()
    gradio_internals.escaped_errors()  # gradio renders an error as HTML: it quotes a client
    with gradio_internals.no_app_until_launch():
        return _build()


def _build() -> gr.Blocks:
    # delete_cache: files handed to visitors (the attention CSVs) leave gradio's cache after a day.
    with gr.Blocks(title="Neural Playground", delete_cache=(3600, 86400)) as demo:
        gr.Markdown(HEADER)
        pages = {}
        with gr.Tabs(elem_classes=["np-tabs"]) as tabs:
            for d in DEMOS:
                with gr.Tab(d.title, id=d.slug) as tab:
                    d.build_in(on_show=[tab.select], on_load=[demo.load])
                pages[d.slug] = (d.title, tab)
    # Each demo is built once; it is also a page of its own, for embedding a single demo in a
    # blog post: /digits, /attention, ... (the same components and events as its tab).
    gradio_internals.views(demo, tabs, pages)
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo


# ?tab=learning (a link to a setup in the Learning tab) opens that tab, by clicking it as a
# visitor would: its select event fills it (gr.Tabs(selected=...) from the server would show
# the tab without firing it). A visitor's click on a tab writes it in the address, so that a
# reload or a copied link opens the tab that was showing. Neither inside someone else's page
# (a <gradio-app src=...>).
# A tab chosen writes ?tab=<slug> into the address, and an address's ?tab= opens that tab. A row
# too narrow for every tab puts the rest in gradio's "More tabs" menu, whose buttons are not
# role=tab: both are looked for.
TAB_JS = """() => {
  if (document.querySelector("gradio-app[src]")) return;
  const titles = TITLES;
  const TABS = "button[role=tab], .overflow-dropdown button";
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest(TABS);
    const slug = button && Object.keys(titles).find(s => titles[s] === button.innerText.trim());
    const query = new URLSearchParams(window.location.search);
    if (!slug || query.get("tab") === slug) return;
    query.set("tab", slug);
    window.history.replaceState(null, "", window.location.pathname + "?" + query.toString());
  }, true);
  const slug = new URLSearchParams(window.location.search).get("tab");
  const title = titles[slug];
  if (!title) return;
  let tries = 0, opened = false;
  const timer = setInterval(() => {
    const tab = [...document.querySelectorAll(TABS)].find(b => b.innerText.trim() === title);
    const more = document.querySelector("button[aria-label='More tabs']");
    if (tab) tab.click();
    else if (more && !opened && document.querySelector("button[role=tab]")) {
      more.click();  // the tab is in the menu: open it, and click it on the next tick
      opened = true;
    }
    if (tab || ++tries > 150) clearInterval(timer);
  }, 100);
}"""


def page_js() -> str:
    """One function, run when the page loads, calling each demo's page_js (if it has one)."""
    titles = json.dumps({d.slug: d.title for d in DEMOS})
    scripts = [TAB_JS.replace("TITLES", titles)] + [d.page_js for d in DEMOS if d.page_js]
    calls = "".join(f"({js})();" for js in scripts)
    return f"() => {{ {calls} }}"


# What a client may send. A file: a drawing is a few kilobytes, a CSV of 500 points some 10 KB;
# gradio keeps uploads a day, so without a limit a client could fill the disk. A request's whole
# body (a JSON call, a form of many files): gradio's parsers read it into memory first.
MAX_FILE_SIZE = "5mb"
MAX_BODY_BYTES = 8 * 2**20


class BodyLimit:
    """ASGI middleware: a request whose body is over `limit` bytes is answered 413 (Payload Too
    Large), by its Content-Length before anything is read, or as soon as its chunks pass it."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            return await self.refuse(send)
        seen, started = 0, False

        async def counted():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise TooLarge
            return message

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except TooLarge:
            if not started:
                await self.refuse(send)

    async def refuse(self, send):
        body = f"The request is larger than {self.limit // 2**20} MB.".encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class TooLarge(Exception):
    pass


class VaryOrigin:
    """ASGI middleware: every response says `Vary: Origin`. gradio answers a request from
    another site's page (the web component in a blog post) with CORS headers, and a request
    with no Origin (that page's <img> of an example) without them; with no Vary, the browser
    reuses the second answer for the first kind of request (the Sketchpad loading the same
    example to draw on), refuses it for its missing CORS header, and the example does not
    load (tests/browser/test_embed.py: Digits in a web component)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        # gradio's own CORS middleware (outside this one) says it when a request has an Origin.
        if scope["type"] != "http" or any(k == b"origin" for k, _ in scope.get("headers") or []):
            return await self.app(scope, receive, send)

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                vary = [v for k, v in headers if k.lower() == b"vary"]
                if not any(b"origin" in v.lower() for v in vary):
                    headers.append((b"vary", b"Origin"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


# The demo pages are for embedding, not browsing: gradio would show a bar with one link, "Home",
# on every page (leaving an embedded demo for the whole app). gr.Navbar(visible=False) does not
# hide it when the page loads (gradio issue #12532), so a rule does.
CSS = """.nav-holder { display: none; }
/* A demo's own page shows the app's tabs with that one tab in them: no bar for a single tab. */
.np-tabs:not(:has(button[role=tab] ~ button[role=tab])) > .tab-wrapper { display: none; }
/* Small pictures (28 x 28 digits) drawn pixel by pixel, not blurred. */
.np-pixelated img { image-rendering: pixelated; }"""


def launch(demo: gr.Blocks, **kwargs):
    """Launch with the app's look; server name and port come from GRADIO_SERVER_NAME/PORT."""
    # show_error: a value a component itself refuses (text where a number belongs) reaches the
    # client as the component's own sentence, not as "the app raised an exception".
    return demo.launch(theme=THEME, css=CSS, js=page_js(), ssr_mode=False, show_error=True,
                       max_file_size=MAX_FILE_SIZE,
                       app_kwargs={
                           "routes": gradio_internals.embed_routes(demo, [d.slug for d in DEMOS]),
                           "middleware": [Middleware(BodyLimit), Middleware(VaryOrigin)]},
                       **kwargs)


if __name__ == "__main__":
    launch(build_app())
