"""The app in a real browser: Playwright drives Debian's Chromium, headless, as a visitor would.

CI installs Chromium (.ci/run); these tests fail, not skip, when it is missing.
"""

import math
import os
import re

import pytest

SHOTS = os.environ.get("SCREENSHOT_DIR")  # set it to keep screenshots of each step


@pytest.fixture
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.wait_for_selector("#digit-sketchpad canvas", timeout=30_000)
    yield page
    page.close()


def open_tab(page, name):
    """Click a tab by its name, as a visitor would: in the row, or in gradio's "More tabs" menu
    when the row is too narrow for every tab."""
    tab = page.get_by_role("tab", name=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.get_by_role("button", name="More tabs").click()
    page.locator(".overflow-dropdown button", has_text=name).click()


def wait_plot(page, elem_id, condition, timeout=30_000):
    """Wait until the plotly div in #elem_id meets `condition` (JavaScript on `p`): gr.Plot
    re-mounts on each update, so for a moment there may be no div at all."""
    page.wait_for_function(f"() => {{ const p = document.querySelector('#{elem_id} "
                           f".js-plotly-plot'); return p && ({condition}); }}", timeout=timeout)


def shot(page, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def stroke(page, points):
    """Press, move through the points (fractions of the canvas), release."""
    box = page.locator("#digit-sketchpad canvas").first.bounding_box()

    def at(fx, fy):
        return box["x"] + fx * box["width"], box["y"] + fy * box["height"]

    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*at(*point), steps=8)
    page.mouse.up()


def press(page, selector):
    """Click a button while the page streams frames: the click event itself, without
    Playwright's waits for the button to be "stable" and for navigations (the address is
    rewritten as settings change, and a click could wait 30 s on that)."""
    page.locator(selector).dispatch_event("click")


def predicted(page):
    return page.locator("#digit-label h2").inner_text(timeout=5_000).strip()


def wait_for_prediction(page, digit):
    page.wait_for_function(
        "d => { const h = document.querySelector('#digit-label h2');"
        " return h && h.innerText.trim() === d; }", arg=digit, timeout=20_000)


def test_draw_a_one_right_after_page_load(page):
    # No click on the Brush button: the page must have selected it.
    page.wait_for_selector('#digit-sketchpad button[aria-label="Brush"].highlight',
                           timeout=10_000)
    stroke(page, [(0.5, 0.15), (0.5, 0.85)])
    wait_for_prediction(page, "1")
    shot(page, "draw-1")
    assert predicted(page) == "1"


def test_draw_a_zero(page):
    circle = [(0.5 + 0.22 * math.sin(t / 20 * 2 * math.pi), 0.5 - 0.33 * math.cos(t / 20 * 2 *
              math.pi)) for t in range(21)]
    stroke(page, circle)
    wait_for_prediction(page, "0")
    # The probabilities, the 28x28 view and the network diagram are drawn too.
    for plot in ("#digit-bars", "#digit-seen", "#digit-network"):
        page.wait_for_selector(f"{plot} .js-plotly-plot", timeout=20_000)
    shot(page, "draw-0")


def test_draw_a_seven_in_two_strokes(page):
    stroke(page, [(0.25, 0.2), (0.75, 0.2)])
    stroke(page, [(0.75, 0.2), (0.45, 0.85)])
    wait_for_prediction(page, "7")
    assert predicted(page) == "7"


def test_clear_button_empties_the_canvas_and_the_prediction(page):
    stroke(page, [(0.5, 0.15), (0.5, 0.85)])
    wait_for_prediction(page, "1")
    page.click("#digit-clear")
    page.wait_for_function(
        "() => document.querySelector('#digit-message').innerText.includes('Draw a digit')",
        timeout=20_000)
    assert page.locator("#digit-label h2").count() == 0
    shot(page, "cleared")
    # And one can draw again: the brush is selected again by itself.
    page.wait_for_selector('#digit-sketchpad button[aria-label="Brush"].highlight',
                           timeout=10_000)
    stroke(page, [(0.5, 0.15), (0.5, 0.85)])
    wait_for_prediction(page, "1")


def test_a_drawn_letter_is_not_a_digit(page):
    # An H: two uprights and a bar, drawn with the mouse.
    stroke(page, [(0.3, 0.2), (0.3, 0.8)])
    stroke(page, [(0.7, 0.2), (0.7, 0.8)])
    stroke(page, [(0.3, 0.5), (0.7, 0.5)])
    page.wait_for_function(
        "() => { const m = document.querySelector('#digit-message').innerText;"
        " return m.includes('not look like a digit') || m.includes('Not sure'); }",
        timeout=20_000)
    shot(page, "letter-H")


def test_clicking_an_example_classifies_it(page):
    # By its accessible name, as a screen reader or keyboard user would find it.
    page.get_by_role("button", name="Held-out MNIST digit 3").click()
    wait_for_prediction(page, "3")
    shot(page, "example-3")
    assert predicted(page) == "3"


def test_inside_the_cnn_on_a_drawing_and_a_dreamed_digit(page):
    stroke(page, [(0.5, 0.15), (0.5, 0.85)])
    wait_for_prediction(page, "1")
    page.get_by_text("Inside the CNN, and what the networks think").click()
    page.click("#digit-look")
    for plot in ("digit-maps", "digit-kernels", "digit-saliency-cnn", "digit-saliency-mlp",
                 "digit-first-layer", "digit-yours", "digit-closest"):
        page.wait_for_selector(f"#{plot} .js-plotly-plot", timeout=30_000)
    wait_plot(page, "digit-maps", "p.layout.title.text.startsWith('conv1: 32 maps')")
    page.wait_for_function("() => document.querySelector('#digit-arithmetic').innerText"
                           ".includes('sum')", timeout=20_000)
    # Another layer, before its ReLU.
    page.locator("#digit-layer input").click()
    page.locator("[role=option]", has_text="conv3").first.click()
    wait_plot(page, "digit-maps", "p.layout.title.text.startsWith('conv3: 64 maps')")
    page.locator("#digit-before input").check()
    wait_plot(page, "digit-maps", "p.layout.title.text.includes('before ReLU')")
    # A kernel of one's own: nine numbers.
    page.locator("#digit-kernel input").fill("0 1 0 1 -4 1 0 1 0")
    page.locator("#digit-kernel input").press("Enter")
    wait_plot(page, "digit-yours", "p.layout.title.text.includes('0 1 0  1 -4 1')")
    # A dreamed 7: the CNN is sure of it.
    page.locator("#digit-dream-d input").click()
    page.locator("[role=option]", has_text="7").first.click()
    page.click("#digit-dream-go")
    page.wait_for_function("() => document.querySelector('#digit-dream-text').innerText"
                           ".includes('the CNN says 7')", timeout=30_000)
    shot(page, "digits-inside")


def test_activations_tab_redraws_when_a_function_is_added(page):
    open_tab(page, "Activation functions")
    page.wait_for_selector("#act-plot .js-plotly-plot", timeout=20_000)
    page.locator("#act-functions label", has_text="GELU").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#act-plot .legendtext')]"
        ".some(e => e.textContent === 'GELU derivative')", timeout=20_000)
    assert "GELU" in page.locator("#act-formulas").inner_text()
    page.fill("#softmax-logits textarea, #softmax-logits input", "1, 5, 2")
    page.wait_for_function(
        "() => document.querySelector('#softmax-plot').textContent.includes('#2 (5)')",
        timeout=20_000)
    shot(page, "activations")


def generated_text(page):
    return page.locator("#gen-output textarea").input_value()


def test_generation_tab_streams_text_and_steps(page):
    open_tab(page, "Text generation")
    page.fill("#gen-prompt textarea", "JULIET.\nO Romeo, Romeo,")
    page.wait_for_function(  # the odds follow the prompt without generating
        "() => document.querySelector('#gen-chart').textContent.includes('after your prompt')",
        timeout=30_000)
    page.click("#gen-go")
    # Streamed: the text grows before the generation ends.
    page.wait_for_function("() => document.querySelector('#gen-output textarea').value.length"
                           " > 0", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#gen-status').textContent.includes('tokens per second')",
        timeout=60_000)
    assert page.locator("#gen-chart .js-plotly-plot").count() == 1
    assert "drawn" in page.locator("#gen-chart").inner_text()
    assert page.locator("#gen-tokens .np-token").count() > 10
    shot(page, "generation")
    # Step mode: one more token, and the chart says which step it shows.
    before = page.locator("#gen-tokens .np-token").count()
    page.click("#gen-step")
    page.wait_for_function(
        "n => document.querySelectorAll('#gen-tokens .np-token').length === n + 1",
        arg=before, timeout=20_000)
    assert "Step" in page.locator("#gen-status").inner_text()
    # Choosing a candidate appends that token.
    text = generated_text(page)
    page.locator("#gen-choose label").first.click()
    page.wait_for_function(
        "n => document.querySelectorAll('#gen-tokens .np-token').length === n + 2",
        arg=before, timeout=20_000)
    assert "chosen by you" in page.locator("#gen-status").inner_text()
    assert generated_text(page).startswith(text)
    shot(page, "generation-step")


def test_sentiment_tab_verdict_words_and_compare(page):
    open_tab(page, "Sentiment")
    page.fill("#sent-text textarea", "The plot was dull, but the acting was wonderful.")
    page.wait_for_function(
        "() => { const h = document.querySelector('#sent-label h2');"
        " return h && h.innerText.trim() === 'positive'; }", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelector('#sent-words').innerText.includes('wonderful')",
        timeout=30_000)
    page.fill("#sent-text textarea", "The plot was dull.")
    page.wait_for_function(
        "() => document.querySelector('#sent-label h2').innerText.trim() === 'negative'",
        timeout=30_000)
    shot(page, "sentiment")
    page.click("#sent-compare")
    page.wait_for_function(
        "() => { const a = document.querySelector('#sent-a-out-label h2'),"
        " b = document.querySelector('#sent-b-out-label h2');"
        " return a && b && a.innerText.trim() === 'positive'"
        " && b.innerText.trim() === 'negative'; }", timeout=30_000)
    page.click("#sent-models")
    page.wait_for_function(
        "() => document.querySelector('#sent-m2-message').innerText.includes('sentiment-encoder')",
        timeout=30_000)
    shot(page, "sentiment-compare")


def test_attention_tab_heatmap_overview_and_focus(page):
    open_tab(page, "Attention")
    page.wait_for_selector("#att-heatmap .js-plotly-plot", timeout=30_000)
    page.wait_for_selector("#att-overview .js-plotly-plot", timeout=30_000)
    assert "sentiment-minilm" in page.locator("#att-message").inner_text()
    page.fill("#att-text textarea", "ROMEO.\nBut soft, what light through yonder window breaks?")
    page.wait_for_function(
        "() => document.querySelector('#att-focus-bars').textContent.includes('breaks')",
        timeout=30_000)
    # Focus another token: the bars follow it.
    page.locator("#att-focus input").click()
    page.locator("[role=option]", has_text=": But").first.click()
    page.wait_for_function(
        "() => document.querySelector('#att-focus-bars').textContent.toLowerCase()"
        ".includes('“but”')",
        timeout=30_000)
    page.click("#att-csv-make")  # the table, for those who cannot read a heatmap
    page.wait_for_function(
        "() => document.querySelector('#att-csv').innerText.includes('.csv')", timeout=30_000)
    page.locator("#att-pair-toggle input").check()
    page.wait_for_selector("#att-causal .js-plotly-plot", timeout=30_000)
    page.wait_for_selector("#att-bidirectional .js-plotly-plot", timeout=30_000)
    shot(page, "attention")


def test_tokens_tab_tokenizes_builds_a_word_and_maps_meanings(page):
    open_tab(page, "Tokens & embeddings")
    page.wait_for_selector("#tok-playground .np-token", timeout=30_000)
    page.fill("#tok-text textarea", "Juliet 😍")
    page.wait_for_function(  # three tokenizers side by side, the emoji as bytes in the GPT's
        "() => { const t = document.querySelector('#tok-playground').innerText;"
        " return t.includes('<F0>') && t.includes('[CLS]') && !t.includes('ROMEO'); }",
        timeout=30_000)
    # BPE, merge by merge: "ROMEO" ends as three tokens.
    page.fill("#tok-word textarea, #tok-word input", "ROMEO")
    page.wait_for_function("() => document.querySelector('#tok-bpe-summary').innerText"
                           ".includes('5 bytes → 3 tokens')", timeout=30_000)
    assert "merge 1" in page.locator("#tok-bpe").inner_text()
    # Neighbours of another word.
    page.fill("#tok-near-word textarea, #tok-near-word input", "queen")
    page.locator("#tok-near-word textarea, #tok-near-word input").press("Enter")
    wait_plot(page, "tok-near", "p.layout.title.text.includes('“queen”')", timeout=30_000)
    # The word map follows its examples; the sentence maps, before and after.
    page.locator("#tok-map").scroll_into_view_if_needed()
    page.get_by_role("button", name="red, blue, green", exact=False).first.click()
    wait_plot(page, "tok-map", "p.data.length === 3", timeout=30_000)
    for plot in ("tok-before", "tok-after", "tok-before-sim", "tok-after-sim"):
        page.wait_for_selector(f"#{plot} .js-plotly-plot", timeout=60_000)
    page.click("#tok-analogy-go")
    page.wait_for_function("() => document.querySelector('#tok-analogy').innerText"
                           ".includes('queen')", timeout=30_000)
    assert "classic analogies" in page.locator("#tok-analogy-honest").inner_text()
    shot(page, "tokens")


def test_quantization_tab_bits_integers_and_a_real_model(page):
    open_tab(page, "Quantization")
    page.wait_for_selector("#q-formats table", timeout=30_000)
    page.fill("#q-value textarea, #q-value input", "65520")
    page.wait_for_function("() => document.querySelector('#q-formats').innerText"
                           ".includes('overflow: past FP16')", timeout=20_000)
    # The notes' example, then an outlier: absmax's step grows.
    page.wait_for_function("() => document.querySelector('#q-number-steps').innerText"
                           ".includes('= 4')", timeout=20_000)
    page.click("#q-outlier")
    page.wait_for_function("() => document.querySelector('#q-number-steps').innerText"
                           ".includes('absmax = 48;')", timeout=20_000)
    # The GPT at 3 bits, absmax, one scale a tensor: clearly worse than float.
    page.wait_for_function("() => document.querySelector('#q-model-result').innerText"
                           ".includes('nats per character')", timeout=60_000)
    page.locator("#q-scheme label", has_text="absmax").click()
    page.locator("#q-granularity label", has_text="per tensor").click()
    page.locator("#q-bits input").click()
    page.locator("[role=option]", has_text="3").first.click()
    page.click("#q-go")
    page.wait_for_function("() => document.querySelector('#q-model-result').innerText"
                           ".includes('at 3 bits')", timeout=60_000)
    page.wait_for_function("() => document.querySelector('#q-continuation').innerText"
                           ".includes('part')", timeout=60_000)
    for plot in ("q-histogram", "q-ptq", "q-qat", "q-number-plot"):
        page.wait_for_selector(f"#{plot} .js-plotly-plot", timeout=30_000)
    assert "trained rounded (QAT)" in page.locator("#q-qat-result").inner_text()
    shot(page, "quantization")


def set_slider(page, elem_id, value):
    """Type a value into a slider's number box and leave it (gradio's release event)."""
    box = page.locator(f"#{elem_id} input[type=number]")
    box.fill(str(value))
    box.press("Tab")


def plot_title(page, elem_id) -> str:
    return page.evaluate(f"() => document.querySelector('#{elem_id} .js-plotly-plot')"
                         ".layout.title.text")


def test_inside_tab_follows_a_prompt_a_head_and_a_knock_out(page):
    open_tab(page, "Inside a GPT")
    page.wait_for_selector("#in-attention .js-plotly-plot", timeout=30_000)
    page.fill("#in-text textarea", "JULIET.\nO Romeo, Romeo, wherefore art thou Romeo?")
    page.wait_for_function(
        "() => { const p = document.querySelector('#in-embedding .js-plotly-plot');"
        " return p && p.layout.title.text.includes('T × C = 16 ×'); }", timeout=30_000)
    # Every step is drawn, the logit lens and the weights' table too.
    for plot in ("in-mlp", "in-residual", "in-output", "in-lens", "in-rank"):
        page.wait_for_selector(f"#{plot} .js-plotly-plot", timeout=30_000)
    assert "175,181,291,520" in page.locator("#in-weights").inner_text()
    # Pick a block and a head: the attention figure follows.
    set_slider(page, "in-layer", 3)
    wait_plot(page, "in-attention", "p.layout.title.text.startsWith('Block 3, head 1')")
    set_slider(page, "in-head", 5)
    wait_plot(page, "in-attention", "p.layout.title.text.startsWith('Block 3, head 5')")
    # And a position: the output figure reads the next token after it.
    set_slider(page, "in-position", 4)
    wait_plot(page, "in-output", "p.layout.title.text.startsWith('After position 4')")
    shot(page, "inside")
    # Knock out block 3's MLP (the default part), then that head.
    page.click("#in-knock")
    page.wait_for_function("() => document.querySelector('#in-knock-message').innerText"
                           ".includes('the MLP of block 3 knocked out')", timeout=20_000)
    page.locator("#in-part label", has_text="attention head").click()
    page.wait_for_function("() => document.querySelector('#in-knock-message').innerText"
                           ".includes('head 5 of block 3 knocked out')", timeout=20_000)
    assert page.locator("#in-knock-plot .js-plotly-plot").count() == 1
    # The lens split into halves: twice the rows, plus the input.
    page.locator("#in-split input").check()
    wait_plot(page, "in-lens", "p.data[0].y.length === 13", timeout=20_000)
    shot(page, "inside-knock")


def status_step(page) -> int:
    text = page.locator("#train-status").inner_text()
    return int(text.split("Step ")[1].split()[0].replace(",", ""))


def boundary_z(page) -> str:
    return page.evaluate("() => JSON.stringify(document.querySelector("
                         "'#train-boundary .js-plotly-plot').data[0].z)")


def test_learning_tab_descends_trains_pauses_steps_and_resets(page):
    open_tab(page, "Learning")
    page.wait_for_selector("#hill-map .js-plotly-plot", timeout=20_000)
    page.wait_for_function("() => document.querySelector('#train-status')"
                           ".innerText.includes('Step 0')", timeout=20_000)
    # Down the hill: one more step lengthens the path.
    page.click("#hill-step")
    wait_plot(page, "hill-map", "p.layout.title.text.endsWith('21 steps')", timeout=10_000)
    # Train: a long run, so that Pause has something to pause.
    page.locator("#train-steps input").fill("20000")
    page.locator("#train-steps input").press("Enter")
    before = boundary_z(page)
    page.click("#train-play")
    page.wait_for_function("() => /Step [1-9][\\d,]{2,}/.test("
                           "document.querySelector('#train-status').innerText)", timeout=20_000)
    assert boundary_z(page) != before  # the boundary moves while it trains
    # The learning rate changes while it plays, without a reset.
    steps_then = status_step(page)
    page.locator("#train-lr input").fill("0.03", force=True)
    page.locator("#train-lr input").press("Enter")
    page.wait_for_function("() => document.querySelector('#train-status')"
                           ".innerText.includes('learning rate 0.03')", timeout=30_000)
    assert status_step(page) > steps_then
    shot(page, "learning-playing")
    press(page, "#train-pause")
    page.wait_for_function("() => document.querySelector('#train-status')"
                           ".innerText.includes('Paused')", timeout=20_000)
    paused = status_step(page)
    page.wait_for_timeout(1000)
    assert status_step(page) == paused  # nothing runs after Pause
    page.click("#train-step")
    page.wait_for_function(f"() => document.querySelector('#train-status').innerText"
                           f".includes('Step {paused + 1:,} ')", timeout=10_000)
    page.click("#train-reset")
    page.wait_for_function("() => document.querySelector('#train-status')"
                           ".innerText.includes('Step 0 ')", timeout=10_000)
    # One step, seen: after the step is taken, this point's cost starts where the step said it
    # would end.
    def costs():
        text = page.locator("#seen-text").inner_text()
        return re.search(r"point goes\s+([\d.]+)\s+→\s+([\d.]+)", text).groups()

    before, after = costs()
    assert float(after) < float(before)
    page.click("#seen-take")
    page.wait_for_function("t => !document.querySelector('#seen-text').innerText.includes(t)",
                           arg=f"goes {before}", timeout=10_000)
    assert costs()[0] == after
    shot(page, "learning-after")


def train_settings(page) -> dict:
    return page.evaluate("""() => ({
      dataset: document.querySelector('#train-dataset input:checked')?.value,
      layers: document.querySelector('#train-layers textarea, #train-layers input').value,
      features: [...document.querySelectorAll('#train-features input:checked')]
                  .map(e => e.parentElement.innerText.trim()),
      regularization: document.querySelector('#train-regularization input:checked')?.value,
      seed: document.querySelector('#train-seed input').value,
      tab: document.querySelector('[role=tab][aria-selected=true]')?.innerText.trim(),
    })""")


def test_an_address_restores_a_learning_setup_and_its_seeded_run(browser, app_url):
    query = ("tab=learning&dataset=xor&layers=4,4&seed=3&features=x1,x2,x1x2"
             "&regularization=l2&regularization_rate=0.01")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/?{query}")
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText"
                           ".includes('L2 0.01')", timeout=30_000)
    # The tab was opened as if clicked: its other sections drew themselves too.
    page.wait_for_selector("#hill-map .js-plotly-plot", timeout=20_000)
    page.wait_for_selector("#transformer-attention .js-plotly-plot", timeout=20_000)
    page.click("#train-more")  # open the accordion with the regularisation
    page.wait_for_selector("#train-regularization input", timeout=10_000)
    s = train_settings(page)
    assert s["tab"] == "Learning" and s["dataset"] == "xor" and s["layers"] == "4, 4"
    assert s["features"] == ["x₁", "x₂", "x₁x₂"] and s["regularization"] == "l2"
    assert s["seed"] == "3"
    page.wait_for_function("() => document.querySelectorAll('#train-network svg image')"
                           ".length === 3 + 4 + 4", timeout=10_000)
    wait_plot(page, "train-boundary", "p.layout.title.text.includes('network 3-4-4-2')")
    first = boundary_z(page)
    # A setting changed in the page goes into the address and the link box.
    page.locator("#train-layers textarea, #train-layers input").first.fill("5, 4")
    page.locator("#train-layers textarea, #train-layers input").first.press("Enter")
    page.wait_for_function("() => location.search.includes('layers=5')", timeout=10_000)
    link = page.locator("#train-link textarea, #train-link input").first
    page.wait_for_function("() => document.querySelector('#train-link textarea, "
                           "#train-link input').value.includes('layers=5')", timeout=10_000)
    assert "seed=3" in link.input_value() and "features=x1%2Cx2%2Cx1x2" in link.input_value()
    shot(page, "learning-address")
    # The first address, opened again, draws the same seeded network.
    other = browser.new_page(viewport={"width": 375, "height": 900})
    other.goto(f"{app_url}/learning?{query}")
    other.wait_for_function("() => document.querySelector('#train-status')?.innerText"
                            ".includes('L2 0.01')", timeout=30_000)
    wait_plot(other, "train-boundary", "p.layout.title.text.includes('network 3-4-4-2')")
    assert boundary_z(other) == first
    widths = other.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1]
    shot(other, "learning-address-phone")
    other.close()
    page.close()


def test_clicks_on_the_plane_add_points_that_the_network_learns(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/learning")
    page.wait_for_selector("#train-boundary .js-plotly-plot", timeout=30_000)
    page.click("#train-own")  # open "Your own points"
    page.locator("#train-click input").check()
    page.wait_for_function("() => document.querySelector('#train-status')?.innerText"
                           ".includes('Step 0')", timeout=20_000)  # drawn once: no re-mount due

    def click(fx, fy):
        """Click at a fraction of the plot area, where a visitor's mouse would (the plot
        re-mounts with each point, so it is measured each time)."""
        page.locator("#train-boundary").scroll_into_view_if_needed()
        for _ in range(100):
            box = page.locator("#train-boundary .nsewdrag").first.bounding_box()
            if box:
                break
            page.wait_for_timeout(100)
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])

    def drawn(n):
        """Wait for the picture of n points (below 4 all of them; then the training half)."""
        shown = n if n < 4 else min(max(round(n * 0.5), 1), n - 1)
        wait_plot(page, "train-boundary", "p.layout.title.text.startsWith('your points') && "
                  f"p.data[1].x.length === {shown}", timeout=10_000)

    clicked = 0
    for label, spots in ((0, [(0.2, 0.8), (0.25, 0.75), (0.3, 0.8)]),
                         (1, [(0.8, 0.2), (0.75, 0.25), (0.7, 0.2)])):
        page.locator(f"#train-point-class label:has-text('{label}')").click()
        for fx, fy in spots:
            click(fx, fy)
            clicked += 1
            page.wait_for_function(f"() => document.querySelector('#train-points-note')"
                                   f".innerText.includes('{clicked} point')", timeout=10_000)
            drawn(clicked)
    assert page.evaluate("() => document.querySelector('#train-dataset input:checked').value"
                         ) == "own"
    wait_plot(page, "train-boundary", "p.layout.title.text.startsWith('your points')")
    wait_plot(page, "train-boundary", "p.data[1].x.length + 0 >= 3")
    page.locator("#train-steps input").fill("300")
    page.locator("#train-steps input").press("Enter")
    page.click("#train-play")
    page.wait_for_function("() => document.querySelector('#train-status').innerText"
                           ".includes('Done')", timeout=30_000)
    assert "accuracy 100.0%" in page.locator("#train-status").inner_text()
    # The bottom-left clicks are class 0 (blue), the top-right ones class 1 (orange).
    z = page.evaluate("() => document.querySelector('#train-boundary .js-plotly-plot')"
                      ".data[0].z")
    assert z[5][5] < 0.5 < z[-6][-6]
    shot(page, "learning-own-points")
    page.close()


def test_a_transformer_learns_live_and_its_induction_head_is_marked(browser, app_url):
    page = browser.new_page(viewport={"width": 375, "height": 900})
    page.goto(f"{app_url}/learning")
    page.wait_for_selector("#transformer-attention .js-plotly-plot", timeout=30_000)
    assert "Step 0" in page.locator("#transformer-status").inner_text()
    page.click("#transformer-play")
    page.wait_for_function("() => document.querySelector('#transformer-status').innerText"
                           ".includes('induction head formed')", timeout=60_000)
    wait_plot(page, "transformer-curve",
              "p.layout.annotations.some(a => a.text.includes('induction head forms'))")
    press(page, "#transformer-pause")
    page.wait_for_function("() => document.querySelector('#transformer-status').innerText"
                           ".includes('Paused')", timeout=20_000)
    status = page.locator("#transformer-status").inner_text()
    score = float(re.search(r"induction score ([\d.]+)", status).group(1))
    assert score > 0.5
    assert page.locator("#transformer-predictions :text('✓')").count() > 3
    widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1]
    shot(page, "learning-transformer-phone")
    page.click("#transformer-reset")
    page.wait_for_function("() => document.querySelector('#transformer-status').innerText"
                           ".includes('Step 0 ')", timeout=20_000)
    page.close()


def test_recurrent_cells_unroll_race_and_face_the_gpt_on_a_phone(browser, app_url):
    page = browser.new_page(viewport={"width": 375, "height": 900})
    page.goto(f"{app_url}/recurrent")
    page.wait_for_selector("#recurrent-arithmetic", timeout=30_000)
    assert "tanh" in page.locator("#recurrent-arithmetic").inner_text()
    page.locator("#recurrent-unroll-cell label", has_text="LSTM").click()
    page.wait_for_function("() => document.querySelector('#recurrent-arithmetic')"
                           ".innerText.includes('forget gate')", timeout=20_000)
    wait_plot(page, "recurrent-unrolled", "p.data.length === 6")
    # the race, with its defaults: the LSTM remembers across 20 steps, the RNN does not
    page.wait_for_selector("#recurrent-gradients .js-plotly-plot", timeout=30_000)
    press(page, "#recurrent-play")
    page.wait_for_function("() => document.querySelector('#recurrent-status').innerText"
                           ".includes('Done')", timeout=120_000)
    status = page.locator("#recurrent-status").inner_text()
    accuracy = {cell: int(re.search(cell + r" (\d+)%", status).group(1))
                for cell in ("RNN", "LSTM", "GRU")}
    assert accuracy["LSTM"] >= 90 and accuracy["RNN"] < 40, status
    assert "the LSTM remembers" in status
    wait_plot(page, "recurrent-gradients", "p.data.length === 4 && p.layout.yaxis.type === 'log'")
    shot(page, "recurrent-race-phone")
    # exploding gradients come with the tab
    assert "grows by a factor" in page.locator("#recurrent-explode-text").inner_text()
    # the LSTM against the GPT
    page.click("#recurrent-score")
    page.wait_for_selector("#recurrent-score-gpt", timeout=60_000)
    assert "nats per character" in page.locator("#recurrent-score-lstm").inner_text()
    page.click("#recurrent-continue")
    page.wait_for_function("() => document.querySelector('#recurrent-lstm-out textarea')"
                           ".value.length >= 200", timeout=60_000)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1]
    shot(page, "recurrent-phone")
    page.close()


def test_gans_plane_digits_and_a_live_forger_on_a_phone(browser, app_url):
    page = browser.new_page(viewport={"width": 375, "height": 900})
    page.goto(f"{app_url}/gans")
    wait_plot(page, "gan-plane", "p.data.length === 6")  # heatmap, grid, real, arrows x2, fakes
    # the plane, with its defaults: the fakes come to the four Gaussians
    page.wait_for_function("() => document.querySelector('#gan-status').innerText"
                           ".includes('Step 0')", timeout=30_000)
    start = float(re.search(r"Distance to the real data ([0-9.]+)",
                            page.locator("#gan-status").inner_text()).group(1))
    press(page, "#gan-play")
    page.wait_for_function("() => /Step 1,500:/.test(document.querySelector('#gan-status')"
                           ".innerText)", timeout=120_000)
    status = page.locator("#gan-status").inner_text()
    distance = float(re.search(r"Distance to the real data ([0-9.]+)", status).group(1))
    assert distance < 0.4 * start, status  # the stated fraction (models.gans.START_FRACTION)
    shot(page, "gans-plane-phone")
    # a distribution drawn by clicking on the plane
    page.locator("#gan-distribution input").click()
    page.get_by_role("option", name="Drawn by you").click()
    page.wait_for_function("() => document.querySelector('#gan-status').innerText"
                           ".includes('at least 5 are needed')", timeout=20_000)
    page.get_by_text("Draw your own distribution").click()
    page.locator("#gan-click input").check()
    page.locator("#gan-plane .nsewdrag").first.scroll_into_view_if_needed()
    box = page.locator("#gan-plane .nsewdrag").first.bounding_box()
    for i in range(6):
        page.mouse.click(box["x"] + box["width"] * (0.3 + 0.06 * i),
                         box["y"] + box["height"] * 0.3)
        page.wait_for_timeout(600)  # plotly reads two quick clicks as a double click
    page.wait_for_function("() => document.querySelector('#gan-status').innerText"
                           ".includes('Step 0')", timeout=20_000)
    # the shipped digits, each read by the CNN beside its nearest training digit
    page.wait_for_selector("#gan-gallery figure img", timeout=60_000)
    assert "read by the CNN" in page.locator("#gan-made-text").inner_text()
    wait_plot(page, "gan-census", "p.data[0].y.length === 10")
    # a small digit GAN trained live
    press(page, "#gan-live-step")
    page.wait_for_function("() => document.querySelector('#gan-live-status').innerText"
                           ".includes('Step 1:')", timeout=30_000)
    wait_plot(page, "gan-live-samples", "p.data[0].z.length === 4 * 29 - 1")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1]
    shot(page, "gans-phone")
    page.close()


def draw_on(page, elem_id, points):
    """Press, move through the points (fractions of #elem_id's canvas), release."""
    canvas = page.locator(f"#{elem_id} canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=8)
    page.mouse.up()


def test_transfer_learning_a_new_class_three_ways_tried_and_exported_on_a_phone(browser,
                                                                                 app_url,
                                                                                 tmp_path):
    page = browser.new_page(viewport={"width": 375, "height": 900})
    page.goto(f"{app_url}/transfer")
    # the starter set, loaded for a newcomer: ten symbols, five drawings each
    page.wait_for_function("() => document.querySelectorAll('#tl-set img').length === 50",
                           timeout=60_000)
    assert "10 classes, 50 drawings" in page.locator("#tl-summary").inner_text()
    wait_plot(page, "tl-curve", "p.data.length === 6")  # three ways, each a band and a line
    wait_plot(page, "tl-maps", "p.data.length === 20")  # ten classes in two spaces
    # the set downloaded, removed, and uploaded again
    page.locator("#tl-download").click()
    saved = page.locator("#tl-set-file a").first
    saved.wait_for(timeout=30_000)
    import httpx

    href = saved.get_attribute("href")
    path = tmp_path / "drawings.json"
    path.write_bytes(httpx.get(href if href.startswith("http") else app_url + href).content)
    page.locator("#tl-clear-set").click()
    page.wait_for_function("() => document.querySelector('#tl-summary').innerText"
                           ".includes('No drawings')", timeout=20_000)
    with page.expect_file_chooser() as chooser:
        page.locator("#tl-upload").click()
    chooser.value.set_files(str(path))
    page.wait_for_function("() => document.querySelectorAll('#tl-set img').length === 50",
                           timeout=30_000)
    # a set of one's own: a zigzag, drawn twice, then the second one removed
    page.locator("#tl-clear-set").click()
    page.wait_for_function("() => document.querySelector('#tl-summary').innerText"
                           ".includes('No drawings')", timeout=20_000)
    page.locator("#tl-class input").fill("zigzag")
    for _ in range(2):
        draw_on(page, "tl-sketchpad", [(0.15, 0.2), (0.4, 0.8), (0.6, 0.2), (0.85, 0.8)])
        page.locator("#tl-add").click()
        page.wait_for_timeout(1_500)
    page.wait_for_function("() => document.querySelector('#tl-summary').innerText"
                           ".includes('zigzag 2')", timeout=20_000)
    page.locator("#tl-number input").fill("2")
    page.locator("#tl-remove").click()
    page.wait_for_function("() => document.querySelector('#tl-summary').innerText"
                           ".includes('zigzag 1')", timeout=20_000)
    assert "at least 2 classes" in page.locator("#tl-summary").inner_text()
    page.locator("#tl-per-class input[type=number]").fill("4")
    page.locator("#tl-per-class input[type=number]").press("Enter")
    page.locator("#tl-starter").click()
    page.wait_for_function("() => document.querySelectorAll('#tl-set img').length === 40",
                           timeout=30_000)
    # which layers each way freezes, tunes or adds, for the ten classes
    page.wait_for_function("() => document.querySelector('#tl-architecture').innerText"
                           ".includes('10 classes')", timeout=20_000)
    # three ways trained side by side (leave-one-out: four drawings a class), 30 steps
    page.locator("#tl-steps input").fill("30")
    page.locator("#tl-steps input").press("Enter")
    page.wait_for_timeout(1_000)
    press(page, "#tl-play")
    page.wait_for_function("() => /Done, step 30 /.test(document.querySelector('#tl-status')"
                           ".innerText)", timeout=120_000)
    assert "leave-one-out: 4 folds" in page.locator("#tl-status").inner_text()
    wait_plot(page, "tl-curves", "p.data.length === 6 && p.data[1].x.length > 1")
    # the confusion matrix: forty held-out drawings (each once), each cell showing its own
    page.wait_for_selector("#tl-confusion table", timeout=30_000)
    counts = page.evaluate("() => [...document.querySelectorAll('#tl-confusion td')]"
                           ".map(td => parseInt(td.querySelector('b').innerText))")
    assert len(counts) == 100 and sum(counts) == 40
    assert page.locator("#tl-confusion td img").count() == 40
    # try it: a triangle, each way's verdict, and the frozen first layer's 32 maps
    draw_on(page, "tl-try-sketchpad", [(0.5, 0.15), (0.85, 0.8), (0.15, 0.8), (0.5, 0.15)])
    page.wait_for_selector("#tl-verdict li", timeout=30_000)
    assert page.locator("#tl-verdict li").count() == 3
    wait_plot(page, "tl-verdict-plot", "p.data.length === 3")
    wait_plot(page, "tl-feature-maps", "p.layout.title.text.startsWith('conv1: 32 maps')")
    # export the feature extractor
    page.locator("#tl-export").click()
    link = page.locator("#tl-exported a").first
    link.wait_for(timeout=30_000)
    assert link.get_attribute("href").endswith("feature_extraction.safetensors")
    widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1]
    shot(page, "transfer-phone")
    page.close()


# -- links a hostile visitor could send (issue 27) --------------------------------------------

EVIL_LINK = '<a href="//evil.example">Log in again</a>'
EVIL_FORM = '<form action="//e.x"><input name="pw"><button>Send</button></form>'
PLANTED = ("() => document.querySelectorAll('a[href*=\"evil.example\"], form, "
           "input[name=pw]').length")


@pytest.mark.parametrize("setting, value", [
    ("dataset", EVIL_LINK), ("dataset", EVIL_FORM), ("points", EVIL_LINK),
    ("points", "1,1,0;" + EVIL_FORM), ("layers", EVIL_FORM), ("activation", EVIL_LINK),
    ("optimizer", EVIL_LINK), ("seed", EVIL_FORM), ("features", EVIL_LINK)])
def test_an_address_cannot_put_markup_on_the_page(browser, app_url, setting, value):
    """Learning reads its settings from the address and says which it could not use: the
    sentence quotes the value as text, never as a link or a form on our page."""
    from urllib.parse import quote

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/?tab=learning&{setting}={quote(value)}")
    page.wait_for_selector("[data-testid=toast-text]", timeout=30_000)
    text = page.locator("[data-testid=toast-text]").first.inner_text()
    assert "could not be used" in text, text
    if "evil.example" in text:  # quoted: as the characters sent
        assert '<a href="//evil.example">' in text, text
    assert page.evaluate(PLANTED) == 0
    shot(page, f"evil-address-{setting}")
    page.close()


def test_the_address_is_written_by_the_tab_that_shows(browser, app_url):
    """Opening / or another tab's address leaves it alone (Learning's controls change on every
    page, and used to write ?tab=learning); a click on a tab writes that tab, so a reload opens
    it again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    for address, tab in (("/", "Digits"), ("/?tab=tokens", "Tokens & embeddings")):
        page.goto(f"{app_url}{address}")
        page.wait_for_function("t => [...document.querySelectorAll('button[role=tab]')]"
                               ".find(b => b.innerText.trim() === t)"
                               "?.getAttribute('aria-selected') === 'true'", arg=tab,
                               timeout=30_000)
        with pytest.raises(PlaywrightTimeout):  # waits for the rewrite, which must not come
            page.wait_for_function("() => location.search.includes('learning')",
                                   timeout=6_000)
    open_tab(page, "Attention")
    page.wait_for_function("() => location.search === '?tab=attention'", timeout=10_000)
    page.reload()
    page.wait_for_function("() => [...document.querySelectorAll('button[role=tab]')]"
                           ".find(b => b.innerText.trim() === 'Attention')"
                           "?.getAttribute('aria-selected') === 'true'", timeout=30_000)
    page.close()
    # On a phone most tabs are in gradio's "More tabs" menu: an address still opens its tab.
    page = browser.new_page(viewport={"width": 375, "height": 900})
    page.goto(f"{app_url}/?tab=quantization")
    page.wait_for_selector("#q-qat .js-plotly-plot", timeout=60_000)
    assert page.locator("#q-qat").is_visible()
    page.close()


def shows(page, selector, text, timeout=30_000):
    """Wait until the element (which may not be there yet) shows the text."""
    page.wait_for_function("([s, t]) => { const e = document.querySelector(s); "
                           "return e && e.innerText.includes(t); }", arg=[selector, text],
                           timeout=timeout)


def test_evaluation_overfitting_a_confusion_cell_thresholds_and_the_paired_test_on_a_phone(
        browser, app_url):
    page = browser.new_page(viewport={"width": 375, "height": 900})
    page.goto(f"{app_url}/evaluation")
    shows(page, "#ev-summary", "989 of 1,000", timeout=60_000)
    # a cell clicked: the CNN's 8s called 0, each shown
    page.locator("#ev-matrix [data-testid='cell-8-1']").click()
    shows(page, "#ev-cell-text", "8s that it called 0", timeout=20_000)
    assert page.locator("#ev-cell img").count() == 2
    assert page.locator("#ev-wrong img").count() == 11  # all its 11 mistakes
    # the other network: its own matrix
    page.locator("#ev-model label:has-text('784-16-16-10')").click()
    shows(page, "#ev-summary", "954 of 1,000", timeout=20_000)
    # overfitting: 100 digits for 40 epochs, then 1,000 digits; both kept to compare
    page.locator("#ev-epochs input[type=number]").fill("40")
    page.locator("#ev-epochs input[type=number]").press("Enter")
    page.wait_for_timeout(500)
    press(page, "#ev-play")
    shows(page, "#ev-status", "Done, epoch 40 of 40", timeout=60_000)
    assert "Test accuracy, measured once" in page.locator("#ev-status").inner_text()
    wait_plot(page, "ev-curves", "p.data.length === 4 && p.data[1].fill === 'tonexty'"
                                 " && p.layout.shapes.length >= 1")
    page.wait_for_function("() => document.querySelectorAll("
                           "'#ev-runs [role=gridcell][data-col=\"0\"]').length === 1",
                           timeout=20_000)
    page.locator("#ev-n_train input[type=number]").fill("1000")
    page.locator("#ev-n_train input[type=number]").press("Enter")
    page.wait_for_timeout(500)
    press(page, "#ev-play")
    shows(page, "#ev-status", "Done, epoch 40 of 40 (1,000 training", timeout=90_000)
    wait_plot(page, "ev-curves", "p.data.length === 5")  # the first run's validation, dotted
    page.wait_for_function("() => document.querySelectorAll("
                           "'#ev-runs [role=gridcell][data-col=\"0\"]').length === 2",
                           timeout=20_000)
    # a threshold: the counts follow it, and the wrong sentences are listed
    page.wait_for_selector("#ev-counts table", timeout=60_000)
    before = page.locator("#ev-counts").inner_text()
    page.locator("#ev-threshold input[type=number]").fill("0.9")
    page.locator("#ev-threshold input[type=number]").press("Enter")
    page.wait_for_function(f"() => document.querySelector('#ev-counts').innerText !== "
                           f"{before!r}", timeout=20_000)
    assert page.locator("#ev-sentences li").count() > 10
    # (the sliders' number boxes losing focus did not throw the finished run away)
    assert "Done, epoch 40 of 40" in page.locator("#ev-status").inner_text()
    wait_plot(page, "ev-pr", "p.layout.title.text.includes('threshold 0.90')")
    assert "397" in page.locator("#ev-open-counts").inner_text()  # non-digits caught at 1.0
    # the paired test, for the sentiment models
    page.locator("#ev-task label:has-text('MiniLM')").click()
    shows(page, "#ev-significance", "fine-tuned MiniLM", timeout=30_000)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1]
    shot(page, "evaluation-phone")
