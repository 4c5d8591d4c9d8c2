"""Neural Playground: see how neural networks and language models work, by touching them.

    python app.py

Each tab is one module in demos/, listed in DEMOS; a demo joins the app by being in that list.
The app runs offline: its models ship in models/weights/.
"""

from __future__ import annotations

import os

# Before gradio is imported: no usage statistics and no version check over the network.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from demos import activations, attention, digits, generation, learning, sentiment  # noqa: E402,E501

DEMOS = [digits, activations, learning, generation, sentiment, attention]

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
    # delete_cache: files handed to visitors (the attention CSVs) leave gradio's cache after a day.
    with gr.Blocks(title="Neural Playground", delete_cache=(3600, 86400)) as demo:
        gr.Markdown(HEADER)
        with gr.Tabs():
            for module in DEMOS:
                with gr.Tab(module.TITLE, id=module.SLUG) as tab:
                    module.build(on_show=[tab.select])
    # One page per demo, for embedding a single demo in a blog post: /digits, /attention, ...
    for module in DEMOS:
        with demo.route(module.TITLE, f"/{module.SLUG}", show_in_navbar=False):
            module.build(on_show=[demo.load])
    # The pages' events serve their own page; the public API is the main page's, under the
    # names the README lists (a page's copy would otherwise appear as classify_digit_1, ...).
    for fn in demo.fns.values():
        if fn.page:
            fn.api_visibility = "private"
    demo.queue(default_concurrency_limit=2, max_size=64)
    return demo


def page_js() -> str:
    """One function, run when the page loads, calling each demo's PAGE_JS (if it has one)."""
    calls = "".join(f"({m.PAGE_JS})();" for m in DEMOS if getattr(m, "PAGE_JS", None))
    return f"() => {{ {calls} }}"


def launch(demo: gr.Blocks, **kwargs):
    """Launch with the app's look; server name and port come from GRADIO_SERVER_NAME/PORT."""
    # show_error: a value a component itself refuses (text where a number belongs) reaches the
    # client as the component's own sentence, not as "the app raised an exception".
    return demo.launch(theme=THEME, js=page_js(), ssr_mode=False, show_error=True, **kwargs)


if __name__ == "__main__":
    launch(build_app())
