"""The places where the app reaches into gradio's internals, written for gradio 6.31.0.

They are checked by tests/api/test_gradio_internals.py, which fails loudly (naming what moved) when
a new gradio changes what they rely on:

- `bounded(sketchpad)`: gradio's Sketchpad, bounded. gradio decodes every picture a client sends in
  full before any of our code runs (a 12,000 x 12,000 PNG of 580 KB became 4.9 GB of memory),
  takes any number of layers, and keeps every drawing the browser uploads (its `accept_blobs`
  server function) until an event reads it, extending a list to whatever index a client names.
  This one reads each picture's size from its header and refuses one over MAX_PIXELS, or more
  than MAX_LAYERS layers, before anything is decoded; and it keeps at most MAX_PENDING drawings
  waiting.

- `no_app_until_launch()`: gradio builds a whole FastAPI app (some 90 routes) each time a
  Blocks or one of its pages closes, and again when the queue is set, for a mounted app's
  sake; launch() then builds the one it serves. Those are apps nobody serves: while this is
  open, they are not built.
- `views(demo, tabs, pages)`: each demo is built once, as a tab of the app, and also served
  alone as a page of its own (/digits, /learning, ...) for embedding: gradio's page config for
  it is the tab's part of the one build (its layout, components and events), not a second
  build.
- `embed_routes(demo, slugs)`: `/<slug>/config` for the `<gradio-app src=".../<slug>">` web
  component, which asks for it (gradio serves a page's config as `/config?page=<slug>` only)
  and draws the config's main page: `page_config` makes the demo's page that config's only one.
- `escaped_errors()`: every error a client receives (gradio's `error_payload`, the one function
  that turns an exception into the message sent) is HTML-escaped, ours and gradio's own (a
  Dropdown quoting the value it refused): gradio renders the message as HTML.
- `lean_sessions()`: every new session (a browser tab, or a REST call with a session_hash of its
  own, or none) made `gradio.state_holder.SessionState`, which copies the config of every
  block of the app (`config_for_block`: `get_config()` and `inspect.signature` on each of
  about 550 blocks here) to keep
  them for deep links, and then kept a copy of the last value of every output it served
  (figures included) for the same reason. This app has no deep-link button. A lean session
  keeps only what a session needs: its State values and the components an event replaced
  (a slider whose maximum it changed). What is kept for deep links is nothing.
"""

from __future__ import annotations

import copy
import inspect
import io
import os
import warnings
from contextlib import contextmanager

import gradio as gr
import PIL.Image
from fastapi import HTTPException
from gradio import route_utils, state_holder
from gradio.components import image_editor
from gradio.components.base import server
from gradio.routes import ORJSONResponse
from starlette.routing import Route

from demos.messages import escaped, fail

GRADIO_VERSION = "6.31.0"  # what this file was written against (requirements.txt pins it)
GRADIO_SESSION_STATE = state_holder.SessionState  # gradio's own, before lean_sessions()


@contextmanager
def no_app_until_launch():
    """While open, closing a Blocks (or a page) builds no FastAPI app and no config file."""
    create, config = gr.blocks.App.create_app, gr.Blocks.get_config_file
    gr.blocks.App.create_app = staticmethod(lambda *args, **kwargs: None)
    gr.Blocks.get_config_file = lambda self: None
    try:
        yield
    finally:
        gr.blocks.App.create_app, gr.Blocks.get_config_file = create, config


class LeanSessionState(state_holder.SessionState):
    """gradio's SessionState without the per-session copy of every block's config.

    `config_values` (what `components` yields, read only by the /gradio_api/deep_link route)
    starts empty and is never filled: `_update_config` and `_update_value_in_config`, which
    gradio calls after every event to keep each output's latest value there, do nothing.
    Everything else (State values, components replaced by an update) is gradio's own code."""

    def __init__(self, blocks):
        # gradio's __init__, minus config_values' comprehension over every block.
        self.blocks_config = state_holder.copy(blocks.default_config)
        self.config_values = {}
        self.state_data = {}
        self._state_ttl = {}
        self.is_closed = False
        # As gradio sets it: a closed session's state is kept an hour (a second in its tests).
        self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600

    def __setitem__(self, key, value):
        from gradio.components import State

        block = self.blocks_config.blocks.get(key)
        if isinstance(block, State):
            self._state_ttl[key] = (block.time_to_live, state_holder.datetime.datetime.now())
            self.state_data[key] = value
        else:
            self.blocks_config.blocks[key] = value

    def _update_config(self, key):
        pass

    def _update_value_in_config(self, key, value):
        pass


GRADIO_ERROR_PAYLOAD = gr.utils.error_payload  # gradio's own, before escaped_errors()


def escaped_error_payload(error, show_error):
    content = GRADIO_ERROR_PAYLOAD(error, show_error)
    if isinstance(content.get("error"), str):
        content["error"] = escaped(content["error"])
    return content


def escaped_errors() -> None:
    """Every error message a client receives is escaped (see the top)."""
    from gradio import queueing

    gr.utils.error_payload = queueing.error_payload = escaped_error_payload


def _ids(layout: dict) -> list[int]:
    return [layout["id"]] + [i for child in layout.get("children", []) for i in _ids(child)]


def _find(layout: dict, block_id: int) -> dict | None:
    if layout["id"] == block_id:
        return layout
    for child in layout.get("children", []):
        found = _find(child, block_id)
        if found:
            return found
    return None


def views(demo: gr.Blocks, tabs: gr.Tabs, pages: dict[str, tuple[str, gr.Tab]]) -> None:
    """Serve each tab in `pages` ({path: (title, tab)}) alone at /<path> too, from the one build.

    The page's layout is the app's Tabs holding that tab only (a tab's select event fires when
    its Tabs mounts: the tab fills itself as in the app, and app.py's CSS hides a bar of one
    tab); its components are the tab's; its events, every event of the app whose triggers,
    inputs and outputs all lie in the tab or are the page's load. gradio serves a page for each
    entry of `demo.pages`, from `demo.config["page"][path]`, which this fills when gradio makes
    the config (at launch)."""
    for path, (title, _) in pages.items():
        demo.pages.append((path, title, False))
    def get_config_file():
        config = type(demo).get_config_file(demo)  # gradio's (None under no_app_until_launch)
        if config is None:
            return None
        app_page = config["page"][""]
        shown = set(app_page["dependencies"])
        for path, (_, tab) in pages.items():
            layout = {"id": tabs._id, "children": [_find(config["layout"], tab._id)]}
            ids = _ids(layout)
            inside = set(ids) | {demo._id}
            page = config["page"][path]
            page["layout"]["children"] = [layout]
            page["components"] = ids
            kept: list[int] = []
            for d in config["dependencies"]:  # in order: a chained event after its trigger
                triggers = {t[0] for t in d["targets"]} - {None}  # None: .then's, .success's
                if (d["id"] in shown and triggers | set(d["inputs"]) | set(d["outputs"]) <= inside
                        and (d["trigger_after"] is None or d["trigger_after"] in kept)):
                    kept.append(d["id"])
            page["dependencies"] = kept
        return config

    demo.get_config_file = get_config_file


def lean_sessions() -> None:
    """New sessions are LeanSessionState from now on (StateHolder makes them by this name)."""
    state_holder.SessionState = LeanSessionState


# A drawing is 280 x 280 pixels; a picture sent through the API may be larger (it is reduced
# before any arithmetic), up to this many pixels (2,000 x 2,000), in each of at most this many
# layers (the canvas sends one).
MAX_PIXELS = 4_000_000
MAX_LAYERS = 3
MAX_PENDING = 256  # drawings uploaded by browsers and not yet read by an event


def picture_size(file) -> tuple[int, int]:
    """(width, height) from a picture's header, without decoding it; a sentence if it is not a
    picture. `file`: gradio's FileData (an upload in its cache) or the bytes a browser sent."""
    try:
        source = io.BytesIO(file) if isinstance(file, (bytes, bytearray)) else file.path
        with warnings.catch_warnings():  # PIL's own bomb warning: the caller checks the size
            warnings.simplefilter("ignore", PIL.Image.DecompressionBombWarning)
            with PIL.Image.open(source) as image:
                return image.size
    except PIL.Image.DecompressionBombError:  # over twice PIL's own limit: far over ours
        fail(f"The picture has far more than {MAX_PIXELS:,} pixels (2,000 × 2,000): the canvas "
             "is 280 × 280; send a smaller picture.")
    except (OSError, ValueError, SyntaxError):
        fail("That file is not a picture this app can read: send a PNG or JPEG drawing.")


def check_picture_parts(background, layers, composite) -> None:
    """Refuse, with a sentence, a drawing with too many layers or a part over MAX_PIXELS."""
    layers = layers or []
    if len(layers) > MAX_LAYERS:
        fail(f"A drawing has at most {MAX_LAYERS} layers; this one has {len(layers):,}.")
    for part in (background, composite, *layers):
        if part is None:
            continue
        width, height = picture_size(part)
        if width * height > MAX_PIXELS:
            fail(f"The picture is {width:,} × {height:,} pixels; at most {MAX_PIXELS:,} pixels "
                 "(2,000 × 2,000) are read. The canvas is 280 × 280: send a smaller picture.")


def bounded(sketchpad: gr.Sketchpad) -> gr.Sketchpad:
    """The same Sketchpad, refusing oversized pictures before decoding them (see the top).

    Its own two methods are wrapped, on this one component: a subclass would do, but gradio
    writes a type stub (.pyi) beside the source file of every Component subclass it meets."""
    preprocess, accept_blobs = sketchpad.preprocess, sketchpad.accept_blobs
    storage = sketchpad.blob_storage

    def bounded_preprocess(payload):
        if payload is not None:
            parts = payload
            if payload.id is not None:  # the browser's drawing, uploaded by accept_blobs
                parts = storage.get(payload.id) or image_editor.EditorDataBlobs(
                    background=None, layers=[], composite=None)
            try:
                check_picture_parts(parts.background, parts.layers, parts.composite)
            except gr.Error:
                storage.pop(payload.id, None)
                raise
        return preprocess(payload)

    @server
    def bounded_accept_blobs(data: image_editor.AcceptBlobs):
        index = data.data.get("index")
        if data.data.get("type") == "layer" and index not in (None, "null"):
            if not (str(index).isdigit() and int(index) < MAX_LAYERS):
                raise HTTPException(400, f"A layer's index is 0 to {MAX_LAYERS - 1}.")
        while len(storage) >= MAX_PENDING:  # the oldest drawing nobody read
            storage.pop(next(iter(storage)))
        return accept_blobs(data)

    sketchpad.preprocess, sketchpad.accept_blobs = bounded_preprocess, bounded_accept_blobs
    return sketchpad


def page_config(demo: gr.Blocks, slug: str, root: str) -> dict:
    """One demo page's config, made to be the whole app for whoever loads it.

    The `<gradio-app src=".../learning">` web component asks for `/learning/config`, which
    gradio does not serve (a page's config is `/config?page=learning`), and then picks the page
    to draw from the address of the page it sits in: a blog post's address names none of ours,
    so it draws the main page. Here the demo's page is the only page, at the address "".
    """
    source = demo.config
    page = source["page"][slug]
    components, dependencies = set(page["components"]), set(page["dependencies"])
    config = {key: value for key, value in source.items()
              if key not in ("components", "dependencies", "layout", "page", "pages")}
    config = copy.deepcopy({
        **config,
        "components": [c for c in source["components"] if c["id"] in components],
        "dependencies": [d for d in source["dependencies"] if d["id"] in dependencies],
        "layout": page["layout"],
        "page": {"": page},
        "pages": [["", title, False] for path, title, _ in source["pages"] if path == slug],
        "current_page": "",
    })
    return route_utils.update_root_in_config(config, root)


def embed_routes(demo: gr.Blocks, slugs: list[str]) -> list[Route]:
    """`/<slug>/config` for every demo page, for the web component (see page_config)."""
    def route(slug: str) -> Route:
        def config(request):
            root = route_utils.get_root_url(  # as gradio's /config finds it (proxies included)
                request, f"/{slug}/config",
                getattr(request.app, "root_path", None) or request.scope.get("root_path"))
            return ORJSONResponse(page_config(demo, slug, root))
        return Route(f"/{slug}/config", config, methods=["GET"])
    return [route(slug) for slug in slugs]


def check() -> list[str]:
    """What this file relies on in gradio, as sentences for what is missing (empty: all there)."""
    problems = []
    if gr.__version__ != GRADIO_VERSION:
        problems.append(f"gradio is {gr.__version__}, this file was written for "
                        f"{GRADIO_VERSION}: re-read state_holder.py and blocks.py")
    source = inspect.getsource(state_holder.StateHolder.__getitem__)
    if "SessionState(self.blocks)" not in source:
        problems.append("StateHolder.__getitem__ no longer makes SessionState(self.blocks)")
    original = GRADIO_SESSION_STATE
    init = inspect.getsource(original.__init__)
    for name in ("blocks_config", "config_values", "state_data", "_state_ttl", "is_closed",
                 "STATE_TTL_WHEN_CLOSED"):
        if f"self.{name}" not in init:
            problems.append(f"SessionState.__init__ no longer sets {name}")
    for name in ("_update_config", "_update_value_in_config", "components", "__setitem__"):
        if not hasattr(original, name):
            problems.append(f"SessionState has no {name} any more")
    if not hasattr(gr.blocks.App, "create_app") or not hasattr(gr.Blocks, "get_config_file"):
        problems.append("App.create_app or Blocks.get_config_file is gone")
    from gradio import queueing, routes

    if "utils.error_payload(" not in inspect.getsource(routes):
        problems.append("routes.py no longer builds errors with utils.error_payload")
    if "error_payload(" not in inspect.getsource(queueing) or not hasattr(queueing,
                                                                           "error_payload"):
        problems.append("queueing.py no longer builds errors with error_payload")
    editor = gr.ImageEditor
    for name in ("blob_storage", "convert_and_format_image"):
        if name not in inspect.getsource(editor.preprocess):
            problems.append(f"ImageEditor.preprocess no longer uses {name}")
    if "self.blob_storage[id]" not in inspect.getsource(editor.accept_blobs):
        problems.append("ImageEditor.accept_blobs no longer keeps drawings in blob_storage")
    create_app = inspect.getsource(gr.routes.App.create_app)
    for needed, what in (('config["page"][page]', "a page's config from config['page']"),
                         ("for pageset in blocks.pages", "a route for each of blocks.pages")):
        if needed not in create_app:
            problems.append(f"gradio's app no longer serves {what} (views() relies on it)")
    if "self.root_block.pages" not in inspect.getsource(gr.blocks.BlocksConfig.get_config):
        problems.append("BlocksConfig.get_config no longer makes a page for each of pages")
    if "getattr(block, body.fn_name" not in create_app:
        problems.append("the component_server route no longer finds a server function on "
                        "the component itself (bounded() wraps it there)")
    for name in ("update_root_in_config", "get_root_url"):
        if not hasattr(route_utils, name):
            problems.append(f"gradio.route_utils has no {name} any more (page_config)")
    return problems
