"""demos/gradio_internals.py: what it relies on in gradio is still there, and sessions made
the lean way still work (State values, components replaced by an update) while keeping no copy
of every block's config."""

import gradio as gr

from demos import gradio_internals


def test_gradio_still_has_what_the_patches_rely_on():
    assert gradio_internals.check() == []


def test_a_lean_session_copies_no_config_and_keeps_no_values():
    gradio_internals.lean_sessions()
    from gradio import state_holder

    with gr.Blocks() as demo:
        gr.Textbox("a")
        gr.Slider(0, 10)
    session = state_holder.SessionState(demo)
    assert isinstance(session, gradio_internals.LeanSessionState)
    assert session.config_values == {} and list(session.components) == []
    key = next(iter(demo.blocks))
    session._update_value_in_config(key, "a big figure")
    assert session.config_values == {}


def test_state_and_updates_still_live_in_the_session():
    """A small app on lean sessions: a gr.State counts one session's calls, and a slider whose
    maximum an event lowered refuses larger values in that session only."""
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    gradio_internals.lean_sessions()
    with gr.Blocks() as demo:
        count = gr.State(0)
        slider = gr.Slider(0, 10, value=1)
        out = gr.Number()
        button = gr.Button()

        def bump(n):
            return n + 1, n + 1

        button.click(bump, count, [count, out], api_name="bump")
        gr.Button().click(lambda: gr.update(maximum=5), None, slider, api_name="lower")
        slider.release(lambda v: v, slider, out, api_name="read")
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    try:
        one, other = Client(url, verbose=False), Client(url, verbose=False)
        assert [one.predict(api_name="/bump") for _ in range(3)] == [1, 2, 3]
        assert other.predict(api_name="/bump") == 1  # a session of its own
        one.predict(api_name="/lower")
        try:
            one.predict(8, api_name="/read")
            raise AssertionError("the lowered maximum did not hold in its session")
        except AppError as e:
            assert "maximum" in str(e)
        assert other.predict(8, api_name="/read") == 8  # the other session keeps 10
    finally:
        demo.close()


def test_views_serve_each_tab_alone_from_one_build():
    """Two tabs built once; /one's page holds tab one's components and events (and the page's
    load), not tab two's; each event still answers under its one name."""
    import httpx
    from gradio_client import Client

    with gr.Blocks() as demo:
        pages = {}
        with gr.Tabs() as tabs:
            for slug in ("one", "two"):
                with gr.Tab(slug, id=slug) as tab:
                    box = gr.Textbox(elem_id=f"in-{slug}")
                    out = gr.Textbox(elem_id=f"out-{slug}")
                    box.submit(lambda x, s=slug: f"{s}:{x}", box, out, api_name=f"echo_{slug}"
                               ).then(lambda x: x + "!", out, out)  # chained: on the page too
                    tab.select(lambda s=slug: s, None, out)
                pages[slug] = (slug.title(), tab)
        gr.Button().click(lambda: "x", None, out)  # outside the tabs: on no page of its own
    gradio_internals.views(demo, tabs, pages)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    try:
        config = httpx.get(f"{url}config", params={"page": "one"}).json()
        ids = {c["id"] for c in config["components"]}
        elems = {c["props"].get("elem_id") for c in config["components"]}
        assert {"in-one", "out-one"} <= elems and not elems & {"in-two", "out-two"}
        assert config["layout"]["children"][0]["id"] == tabs._id
        for dependency in config["dependencies"]:  # every event lies in the page
            assert {t[0] for t in dependency["targets"]} <= ids | {demo._id, None}
        assert len(config["dependencies"]) == 3  # submit, what follows it, select of tab one
        assert httpx.get(f"{url}two").status_code == 200
        assert Client(url, verbose=False).predict("a", api_name="/echo_two") == "two:a"
        assert len(demo.blocks) < 12  # built once: 2 x (tab, 2 boxes) + tabs + button + root
    finally:
        demo.close()
