"""The Evaluation tab's frames and tables: valid plotly figures (strict JSON) drawn from the
run's own numbers, the confusion matrix as a clickable table, the counts as a table of four,
sentences escaped, and the paired test said in words."""


import gradio as gr
import pytest
from conftest import strict_figure as strict

import demos.evaluation as tab
from demos.evaluation import figures
from models import evaluation
from models.evaluation import overfit


def test_an_overfitting_frame_at_epoch_0_and_after_with_runs_to_compare():
    run = overfit.OverfitRun(n_train=100, seed=0)
    figure, status = tab.frame(run)
    assert "Press Play" in strict(figure)["layout"]["title"]["text"]
    assert "epoch 0" in status
    for _ in range(30):
        run.step()
    earlier = {"label": "300 digits", "history": run.record()["history"]}
    tab._compared[run] = [earlier]
    figure, status = tab.frame(run)
    data = strict(figure)
    train, val = data["data"][0], data["data"][1]
    assert train["y"] == run.history["train_loss"] and val["y"] == run.history["val_loss"]
    assert val["fill"] == "tonexty"  # the gap shaded
    assert data["data"][-1]["name"] == "validation: 300 digits"
    best = [s for s in data["layout"]["shapes"] if s["line"]["dash"] == "solid"][0]
    assert best["x0"] == run.best[0]
    assert f"epoch **{run.best[0]}**" in status and "Test accuracy" not in status


def test_a_finished_run_joins_the_comparison_once_and_says_its_test_score():
    run = overfit.OverfitRun(n_train=100, seed=0)
    from models import runner

    list(runner.iterate(run.run(20)))
    compared, table = tab.keep_finished(run, [])
    compared, table = tab.keep_finished(run, compared)
    assert len(compared) == 1 and len(table) == 1
    assert table.iloc[0]["run"] == "100 digits"
    assert table.iloc[0]["test accuracy (Wilson 95 %)"].startswith(
        figures.pct(run.test["accuracy"]) + " (")
    assert "measured once" in figures.overfit_status(run.record())
    unfinished = overfit.OverfitRun(n_train=100, seed=0)
    assert tab.keep_finished(unfinished, compared)[0] == compared
    label = figures.run_label({"n_train": 7000, "weight_decay": 0.01, "dropout": 0.5,
                               "augment": True, "seed": 0})
    assert label == "7,000 digits, weight decay 0.01, dropout 0.5, augmented"


def test_the_confusion_table_is_the_matrix_with_the_diagonal_green():
    result = evaluation.digit_confusion("mlp")
    styler = figures.confusion_table(result)
    frame = styler.data
    assert frame.iloc[:, 1:].values.tolist() == result["matrix"]
    styles = figures.cell_styles(result["matrix"])
    assert all(("34, 197, 94" in styles[i][j]) == (i == j) for i in range(10) for j in range(10))
    mistakes = [styles[i][j] for i in range(10) for j in range(10)
                if i != j and result["matrix"][i][j]]
    assert mistakes and all("249, 115, 22" in s for s in mistakes)  # every mistake orange
    assert "34, 197, 94" in styler.to_html()


def test_clicking_a_cell_shows_its_digits_and_the_row_label_shows_the_right_ones():
    r = evaluation.digit_confusion("mlp")
    event = gr.SelectData(None, {"index": [4, 10], "value": r["matrix"][4][9]})
    true, said, cell, text = tab.cell_clicked("mlp", event)
    assert (true, said) == (4, 9)
    assert cell.count("<img") == r["matrix"][4][9] and f"**{r['matrix'][4][9]}**" in text
    event = gr.SelectData(None, {"index": [2, 0], "value": "true 2"})
    true, said, cell, text = tab.cell_clicked("mlp", event)
    assert (true, said) == (2, 2) and "the 2s it got right" in text
    assert cell.count("<img") == tab.SHOWN_IN_CELL


def test_the_counts_table_and_the_curves():
    counts = evaluation.sentiment_threshold(0.5, "sentiment-encoder")
    html = figures.counts_html(counts, "positive", "negative")
    for key in ("tp", "fp", "tn", "fn"):
        assert f"<b>{counts[key]}</b>" in html
    curves = evaluation.curves(evaluation.sentiment_scores("sentiment-encoder"),
                               evaluation.sentiment_sample()[1])
    data = strict(figures.curves_figure(curves, counts, "t"))
    marked = data["data"][1]
    assert marked["x"] == [counts["recall"]] and marked["y"] == [counts["precision"]]


def test_sentences_are_escaped_as_they_read():
    listed = figures.sentence_list([{"text": "<script>alert(1)</script> at&amp;t",
                                     "positive": True, "score": 0.1}], 0.5)
    assert "<script>" not in listed and "&lt;script&gt;" in listed and "at&amp;t" in listed
    assert "at&amp;amp;t" not in listed


@pytest.mark.parametrize("task", ["digits", "sentiment"])
def test_the_paired_test_in_words(task):
    text = tab.show_significance(task)
    result = evaluation.significance_test(task)
    assert str(result["only_a"]) in text and str(result["only_b"]) in text
    assert ("**Yes**" in text) == (result["p_value"] < 0.05)


def test_bad_values_become_gradio_errors():
    with pytest.raises(gr.Error, match="model"):
        tab.digit_confusion("resnet")
    with pytest.raises(gr.Error, match="digit"):
        tab.confusion_examples("cnn", 12, 3)
    with pytest.raises(gr.Error, match="threshold"):
        tab.sentiment_threshold(2, "sentiment-minilm")
    with pytest.raises(gr.Error, match="task"):
        tab.significance_test("vision")
    with pytest.raises(gr.Error, match="training digits"):
        tab._checked({"n_train": 5})


def test_the_tab_opens_on_the_most_frequent_mistake_and_keeps_a_chosen_cell():
    matrix = evaluation.digit_confusion("cnn")["matrix"]
    out = tab.first_show("cnn", None, None)
    t, p = out[4], out[5]
    assert t != p and matrix[t][p] == max(matrix[i][j] for i in range(10) for j in range(10)
                                          if i != j)
    out = tab.first_show("cnn", 8, 0)
    assert (out[4], out[5]) == (8, 0) and "8s that it called 0" in out[-1]
