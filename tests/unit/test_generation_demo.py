"""The Text generation tab's figures and HTML, from made-up values (no model)."""

from demos import generation as tab

VIEW = {"candidates": [{"id": 5, "token": " the", "before": 0.4, "after": 0.6},
                       {"id": 9, "token": "\n", "before": 0.3, "after": 0.4},
                       {"id": 2, "token": "<b>", "before": 0.1, "after": 0.0}],
        "entropy_before": 1.9, "entropy_after": 0.97, "kept": 2, "vocabulary": 4096,
        "drawn": 9}


def test_distribution_figure_shows_before_and_after_and_marks_the_drawn_token():
    fig = tab.distribution_figure(VIEW, "title")
    before, after = fig.data
    assert list(before.y) == [0.4, 0.3, 0.1] and list(after.y) == [0.6, 0.4, 0.0]
    assert list(before.x) == ["␣the ·5", "↵ ·9", "<b> ·2"]
    widths = list(after.marker.line.width)
    assert widths[1] > 0 and widths[0] == widths[2] == 0
    assert [a.text for a in fig.layout.annotations] == ["drawn"]
    assert "1.90 → 0.97 bits" in fig.layout.title.text


def test_tokens_html_escapes_text_and_shades_by_probability():
    html = tab.tokens_html([{"id": 1, "token": "<script>alert(1)</script>"}],
                           [{"id": 2, "token": " x"}, {"id": 3, "token": "y"}], [0.9, 0.01])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert tab.probability_color(0.9) in html and tab.probability_color(0.01) in html
    assert 'title="generated token 2 · id 3 · p = 1.0% when drawn"' in html


def test_probability_bins_are_ordered():
    assert tab.probability_color(1.0) != tab.probability_color(0.0)
    assert tab.probability_color(0.3) == tab.PROBABILITY_BINS[1][1]
