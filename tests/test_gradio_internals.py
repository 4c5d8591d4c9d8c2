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
