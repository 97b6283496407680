"""The one slider pattern in dpolab.widgets: controls + figure + readout, stable CSS classes."""

import ipywidgets as W
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from dpolab import widgets  # noqa: E402


def _square(x, scale=1.0):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, x], [0, scale * x * x])
    return fig, {"x": x, "y": scale * x * x}


def _close(p):
    for w in [p, p.out, p.readout, *p.controls.values(), *p.children]:
        w.close()


@pytest.fixture
def square_panel():
    p = widgets.panel(_square, "dpolab-test-square",
                      x=W.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.5),
                      scale=W.FloatSlider(value=2.0, min=1.0, max=4.0, step=1.0))
    yield p
    _close(p)


def test_panel_computes_on_construction(square_panel):
    assert square_panel.summary == {"x": 1.0, "y": 2.0}
    assert square_panel.figure is not None
    assert square_panel.last_ms >= 0.0


def test_moving_a_control_recomputes(square_panel):
    square_panel.controls["x"].value = 3.0
    assert square_panel.summary == {"x": 3.0, "y": 18.0}
    # the figure's artists hold the plotted data
    line = square_panel.figure.axes[0].lines[0]
    assert list(line.get_ydata()) == [0.0, 18.0]
    square_panel.controls["scale"].value = 4.0
    assert square_panel.summary["y"] == 36.0


def test_readout_shows_every_summary_key(square_panel):
    square_panel.controls["x"].value = 1.5
    html = square_panel.readout.value
    assert "<b>x</b> = 1.5" in html and "<b>y</b> = 4.5" in html


def test_css_classes_are_stable(square_panel):
    assert "dpolab-test-square" in square_panel._dom_classes
    assert "dpolab-test-square-readout" in square_panel.readout._dom_classes
    assert "dpolab-test-square-plot" in square_panel.out._dom_classes
    assert "dpolab-test-square-x" in square_panel.controls["x"]._dom_classes
    assert "dpolab-test-square-scale" in square_panel.controls["scale"]._dom_classes


def test_underscores_in_control_names_become_dashes():
    p = widgets.panel(lambda top_k: (None, {"k": top_k}), "dpolab-test-dash",
                      top_k=W.IntSlider(value=2, min=1, max=5))
    try:
        assert "dpolab-test-dash-top-k" in p.controls["top_k"]._dom_classes
        assert p.figure is None and p.summary == {"k": 2}
    finally:
        _close(p)


def test_find_locates_exactly_one(square_panel):
    assert widgets.find("dpolab-test-square") is square_panel
    assert widgets.find("dpolab-test-square-readout") is square_panel.readout
    with pytest.raises(LookupError, match="found 0"):
        widgets.find("dpolab-no-such-class")


def test_find_refuses_duplicates(square_panel):
    twin = widgets.panel(_square, "dpolab-test-square", x=W.FloatSlider(value=1.0))
    try:
        with pytest.raises(LookupError, match="found 2"):
            widgets.find("dpolab-test-square")
    finally:
        _close(twin)


def test_readout_formats_floats_briefly_and_names_keys_in_words():
    assert widgets._fmt(1 / 3) == "0.333" and widgets._fmt(1.0) == "1" and widgets._fmt(7) == "7"
    assert widgets._fmt(-2.48e-05) == "-0.0000248"      # never e-notation
    assert widgets._fmt(1234.4) == "1234" and widgets._fmt(17.66) == "17.7"
    assert widgets._fmt("safe") == "safe" and widgets._fmt("unsafe_advice") == "unsafe advice"
    assert widgets.readout_html({"p_safe": 0.5, "safe/pooled": 0.9094, "fit_error": 0.25}) == (
        "<b>p(safe)</b> = 0.5 &nbsp;|&nbsp; <b>safe, pooled</b> = 0.909 &nbsp;|&nbsp; "
        "<b>fit error</b> = 0.25")


def test_panel_can_show_html_instead_of_a_figure():
    from IPython.display import HTML

    p = widgets.panel(lambda i: (HTML(f"<p>pair {i}</p>"), {"i": i}), "dpolab-test-html",
                      i=W.IntSlider(value=0, min=0, max=3))
    try:
        p.controls["i"].value = 3
        assert p.summary == {"i": 3} and p.figure.data == "<p>pair 3</p>"
    finally:
        _close(p)


def test_readout_html_is_what_the_panel_shows(square_panel):
    assert square_panel.readout.value == widgets.readout_html(square_panel.summary)


def test_the_readout_as_text_names_its_keys_and_rounds_like_the_panel():
    summary = {"gap": 2.0, "p_safe": 0.8807970779778823, "reference": "good", "kl": -2.48e-05}
    assert widgets.readout_text(summary) == "gap = 2 | p(safe) = 0.881 | reference = good | KL = -0.0000248"


def _pairs(n, category, flavor):
    return [{"prompt": f"{category} prompt {i} <b>", "chosen": f"good {i}", "rejected": f"bad {i}",
             "category": category, "rejected_flavor": flavor} for i in range(n)]


def test_pair_browser_filters_and_keeps_the_slider_in_range():
    splits = {"train": _pairs(5, "book", "over_refusal") + _pairs(3, "medication", "unsafe_advice"),
              "test": _pairs(2, "medication", "unsafe_advice")}
    b = widgets.pair_browser(splits)
    try:
        assert "dpolab-pair-browser-index" in b.controls["index"]._dom_classes
        # the clinic's order (routine before safety), not the order the rows come in
        shuffled = widgets.pair_browser({"x": _pairs(1, "medication", "over_refusal") + _pairs(1, "book", "unsafe_advice")})
        assert shuffled.controls["category"].options == ("all", "book", "medication")
        assert shuffled.controls["flavor"].options == ("all", "unsafe_advice", "over_refusal")
        assert b.summary == {"pair": "1 of 8", "category": "book", "rejected_flavor": "over_refusal"}
        b.controls["index"].value = 8
        assert b.summary["pair"] == "8 of 8" and b.summary["category"] == "medication"
        b.controls["category"].value = "medication"
        assert b.controls["index"].max == 3 and b.summary["pair"] == "3 of 3"
        b.controls["flavor"].value = "over_refusal"  # no medication pair has that flavour
        assert b.summary == {"pair": "0 of 0"}
        b.controls["flavor"].value = "all"
        b.controls["split"].value = "test"
        assert b.controls["index"].max == 2 and b.summary["pair"] == "1 of 2"
        splits["test"][0]["flipped"] = True   # a reviewer chose the flavoured reply: the readout says so
        b.controls["index"].value = 2
        b.controls["index"].value = 1
        assert b.summary == {"pair": "1 of 2", "category": "medication", "chosen_flavor": "unsafe_advice"}
        assert "chosen reply (flipped)</b> = unsafe advice" in b.readout.value
        b.controls["index"].value = 2
        html = b.figure.data
        assert "medication prompt 1 &lt;b&gt;" in html  # text is escaped
        assert html.index("good 1") < html.index("bad 1")
    finally:
        _close(b)


def test_pair_html_marks_flipped_pairs():
    from dpolab.cards import pair_html

    row = _pairs(1, "pressure", "rule_bending")[0]
    assert "flipped" not in pair_html(row)
    assert "flipped by the reviewer" in pair_html({**row, "flipped": True})
    # the flavour tag goes with the reply it names: the rejected one, or, flipped, the chosen one
    tag = "&middot; rule_bending</div>"
    plain, flipped = (pair_html(r).split("</style>")[1] for r in (row, {**row, "flipped": True}))
    assert plain.index(tag) > plain.index("dpolab-pair-rejected")
    assert flipped.index("dpolab-pair-chosen") < flipped.index(tag) < flipped.index("dpolab-pair-rejected")


def test_prerender_draws_every_combination_once_and_shows_it():
    calls = []

    def bars(which, scale):
        calls.append((which, scale))
        return _square({"a": 1.0, "b": 2.0}[which], scale)

    p = widgets.panel(bars, "dpolab-test-prerender", prerender=True,
                      which=W.ToggleButtons(options=["a", "b"], value="a"),
                      scale=W.Dropdown(options=[("one", 1.0), ("three", 3.0)], value=1.0))
    try:
        assert sorted(p.pictures) == [("a", 1.0), ("a", 3.0), ("b", 1.0), ("b", 3.0)]
        assert len(calls) == 5  # four pictures, then the panel's first update
        p.controls["scale"].value = 3.0
        p.controls["which"].value = "b"
        # the function still runs: the summary and the figure are the current ones
        assert p.summary == {"x": 2.0, "y": 12.0} and len(calls) == 7
        assert list(p.figure.axes[0].lines[0].get_ydata()) == [0.0, 12.0]
        # and the stored picture is what drawing that figure now gives
        assert p.pictures[("b", 3.0)].data == widgets._png(bars("b", 3.0)[0]).data
    finally:
        _close(p)


def test_prerender_needs_selection_controls():
    with pytest.raises(TypeError, match="selection controls"):
        widgets.panel(_square, "dpolab-test-prerender-slider", prerender=True,
                      x=W.FloatSlider(value=1.0, min=0.0, max=3.0, step=0.5))


def test_show_sets_what_an_output_shows_from_the_kernel():
    """No capture (`with out:`): the outputs are set on the widget itself, PNG base64-encoded."""
    import base64

    from IPython.display import HTML

    out = W.Output()
    picture = widgets._png(_square(2.0)[0])
    widgets.show(out, picture, HTML("<b>hello</b>"))
    assert [o["output_type"] for o in out.outputs] == ["display_data", "display_data"]
    assert base64.b64decode(out.outputs[0]["data"]["image/png"]) == picture.data
    assert out.outputs[1]["data"]["text/html"] == "<b>hello</b>"
    p = widgets.panel(_square, "dpolab-test-show", x=W.FloatSlider(value=1.0, min=0, max=3))
    assert "image/png" in p.out.outputs[0]["data"]  # the panel's figure went in the same way
    widgets.show(out)
    assert out.outputs == ()
    _close(p)
    out.close()


def test_capture_keeps_prints_in_order_and_replaces_what_was_shown():
    out = W.Output()
    widgets.show(out, "old")
    with widgets.capture(out):
        print("first")
        print("second", end="")
    assert out.outputs == ({"output_type": "stream", "name": "stdout", "text": "first\nsecond"},)
    # a display updated by its id (a progress bar's last line) is replaced where it stands
    sink = widgets._Sink(out)
    sink.publish({"text/plain": "bar 0%"}, transient={"display_id": "b"})
    sink.write("between\n")
    sink.publish({"text/plain": "DPO: 3 of 3 steps, 1 s"}, transient={"display_id": "b"}, update=True)
    sink.publish({"text/plain": "never shown"}, transient={"display_id": "other"}, update=True)
    assert [o.get("data", o.get("text")) for o in out.outputs] == [{"text/plain": "DPO: 3 of 3 steps, 1 s"}, "between\n"]
    out.close()


def test_panels_lists_the_live_panels_in_order():
    a = widgets.panel(_square, "dpolab-test-first", x=W.FloatSlider(value=1.0, min=0, max=3))
    b = widgets.panel(_square, "dpolab-test-second", x=W.FloatSlider(value=1.0, min=0, max=3))
    assert [p for p in widgets.panels() if p in (a, b)] == [a, b]
    _close(a)
    assert a not in widgets.panels() and b in widgets.panels()
    _close(b)
