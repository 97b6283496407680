"""Figures behind sliders are built once and then updated: what a panel shows after any number of
changes must be what a figure drawn from scratch shows, pixel for pixel."""

import io

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from PIL import Image  # noqa: E402

from dpolab import bandit, figcheck, modelplots, plots, rewardplots, tabular, widgets  # noqa: E402
from dpolab import bradley_terry as bt  # noqa: E402


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def _shown(fig) -> np.ndarray:
    """What a panel shows: the blitted PNG."""
    return _pixels(widgets._png(fig).data)


def _saved(fig) -> np.ndarray:
    """matplotlib's own full render of every artist, animated ones included."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return _pixels(buffer.getvalue())


def _rate(r):
    return {"rate": r, "lo": max(0.0, r - 0.08), "hi": min(1.0, r + 0.08), "k": 0, "n": 160}


def _cases():
    """name -> (build: () -> updater, values to visit in turn, each a tuple of draw's arguments)."""
    world = bandit.clinic_bandit("good")
    runs = {b: tabular.train_tabular(world, b, mode="sampled", steps=60, n_pairs=200, seed=0,
                                    record_every=20) for b in (0.1, 0.5, 2.0)}
    toy = bandit.clinic_bandit(prompts=1)
    temperatures = np.array([0.25, 1.0, 4.0])
    sweep = bt.noise_sweep(toy.rewards[0], temperatures, n=200, seed=0)
    worlds = {name: bandit.clinic_bandit(name, prompts=1) for name in ("good", "poor")}
    betas = np.logspace(-2, 1, 13)
    frontiers = {n: bandit.frontier(w.reference_probs, w.rewards, betas) for n, w in worlds.items()}
    rng = np.random.default_rng(0)
    replies = [[(f"t{i}", float(-rng.exponential(1.5))) for i in range(n)] + [("<|endoftext|>", -0.3)]
               for n in (6, 14, 9)]
    rows = [{"beta": b, "kl": kl, "safe": _rate(s), "broken": _rate(br)} for b, kl, s, br in
            [(None, 0.0, 0.3, 0.05), (0.01, 2.0, 0.9, 0.4), (0.1, 1.0, 0.8, 0.1), (1.0, 0.2, 0.5, 0.05)]]
    crowded = [{"beta": b, "kl": kl, "safe": _rate(s), "broken": _rate(br)} for b, kl, s, br in
               [(None, 0.0, 0.51, 0.01), (100.0, 0.27, 0.68, 0.01), (10.0, 0.35, 0.71, 0.01), (1.0, 1.75, 0.91, 0.02),
                (0.1, 9.5, 0.70, 0.17)]]
    # the reference and the two tightest betas within a fifth of a nat, climbing: 07's sweep on the notes' CPU
    huddled = [{"beta": b, "kl": kl, "safe": _rate(s), "broken": _rate(br)} for b, kl, s, br in
               [(None, 0.0, 0.51, 0.01), (100.0, 0.08, 0.61, 0.01), (10.0, 0.16, 0.69, 0.01), (1.0, 0.84, 0.85, 0.02),
                (0.1, 2.2, 0.78, 0.03), (0.01, 17.1, 0.39, 0.50)]]
    table = {"a": {"labels": ["safe", "unsafe_advice", "over_refusal"], "implicit": [5.0, 2.0, -3.0],
                   "explicit": [4.0, -4.0, -4.2]},
             "b": {"labels": ["safe", "rule_bending"], "implicit": [0.1, 0.05], "explicit": [3.5, -4.1]}}
    return {
        "bt_gap": (plots.bt_gap_updater, [(-6.0,), (2.5,), (0.0,)]),
        "bt_noise": (lambda: plots.bt_noise_updater(sweep, toy.rewards[0], toy.labels),
                     [(0.25,), (4.0,), (1.0,)]),
        "tether": (lambda: plots.tether_updater(worlds, frontiers),
                   [(0.5, "good"), (0.01, "good"), (10.0, "poor"), (0.2, "poor"), (0.03, "good")]),
        "dpo_run": (lambda: plots.dpo_run_updater(runs, world), [(0.5,), (0.1,), (2.0,)]),
        "token_logps": (rewardplots.token_logps_updater,
                        [(replies[1], "long"), (replies[0], "short"), (replies[2], "middle")]),
        "beta_tether": (lambda: modelplots.beta_tether_updater(rows), [(0.1,), (0.01,), (1.0,)]),
        # two tight betas a tenth of a nat apart, as 07's beta 10 and 100 landed on one CPU
        "beta_tether_crowded": (lambda: modelplots.beta_tether_updater(crowded), [(100.0,), (10.0,), (0.1,)]),
        "beta_tether_huddled": (lambda: modelplots.beta_tether_updater(huddled), [(100.0,), (0.01,), (10.0,)]),
        "reward_ranking": (lambda: rewardplots.reward_ranking_updater(table), [("a",), ("b",), ("a",)]),
    }


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_a_reused_figure_shows_what_a_new_one_shows(name):
    build, values = CASES[name]
    draw = build()
    for args in values:
        fig, summary = draw(*args)
        fresh_fig, fresh_summary = build()(*args)
        assert summary == fresh_summary
        shown = _shown(fig)
        np.testing.assert_array_equal(shown, _shown(fresh_fig), err_msg=f"{name} at {args[1:]}")
        # and the blitted picture is matplotlib's full render of the same figure
        np.testing.assert_array_equal(shown, _saved(fig), err_msg=f"{name} at {args[1:]}")


def test_the_function_is_its_updater_called_once():
    _, values = CASES["dpo_run"]
    world = bandit.clinic_bandit("good")
    runs = {b: tabular.train_tabular(world, b, mode="sampled", steps=60, n_pairs=200, seed=0,
                                    record_every=20) for b in (0.1, 0.5, 2.0)}
    fig, summary = plots.dpo_run(0.4, runs, world)  # the nearest run on a log scale: 0.5
    assert summary["beta"] == 0.5
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), runs[0.5].probs[:, 0, 0])
    trained = [p.get_height() for p in fig.axes[1].patches][5:10]
    np.testing.assert_allclose(trained, runs[0.5].policy[0])


def test_a_change_redraws_only_what_moves(monkeypatch):
    """A new beta blits the bars and the point; so does a new reference, whose frontier fits the
    same axes, and the picture is the one a figure drawn whole for it shows."""
    worlds = {name: bandit.clinic_bandit(name, prompts=1) for name in ("good", "poor")}
    frontiers = {n: bandit.frontier(w.reference_probs, w.rewards, np.logspace(-2, 1, 13))
                 for n, w in worlds.items()}
    draw = plots.tether_updater(worlds, frontiers)
    fig = draw(0.5, "good")[0]
    widgets._png(fig)
    limits = fig.axes[1].get_xlim(), fig.axes[1].get_ylim()
    assert limits[0][1] > 1.5 * max(frontiers["poor"]["kl"])   # the poor reference's frontier fits too
    full = []
    original = FigureCanvasAgg.draw
    monkeypatch.setattr(FigureCanvasAgg, "draw", lambda self: (full.append(1), original(self)))
    for beta in (0.1, 1.0, 3.0):
        widgets._png(draw(beta, "good")[0])
    assert full == []
    blitted = widgets._png(draw(3.0, "poor")[0]).data
    assert full == [] and (fig.axes[1].get_xlim(), fig.axes[1].get_ylim()) == limits
    whole = widgets._png(plots.tether_updater(worlds, frontiers)(3.0, "poor")[0]).data
    assert blitted == whole                  # the frontier and its end labels moved, nothing stale


def test_a_ranking_with_fewer_candidates_leaves_no_empty_row():
    """The figure is built for the prompt with the most candidates (three: "a" of `_cases`); a
    prompt with two ("b") shows only its two bars, each in its own half of the axis."""
    build, _ = CASES["reward_ranking"]
    draw = build()
    draw("a")
    fig, _ = draw("b")
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    bars = sorted((p.get_y(), p.get_y() + p.get_height()) for p in ax.patches)
    assert len(bars) == 2
    row = (hi - lo) / 2  # each bar's share of the axis
    for k, (bottom, top) in enumerate(bars):
        assert lo + k * row < bottom < top < lo + (k + 1) * row


def test_token_bars_past_the_reply_are_hidden():
    draw = rewardplots.token_logps_updater()
    draw([("a", -1.0), ("b", -3.0), ("<|endoftext|>", -0.2)], "long")
    fig, summary = draw([("c", -0.1), ("<|endoftext|>", -0.5)], "short")
    shown = [p.get_height() for p in fig.axes[0].patches if p.get_visible()]
    assert shown == [-0.1, -0.5] and len(fig.axes[0].patches) == 3
    assert summary == {"tokens": 2, "logp": -0.6, "lowest": "EOS", "eos_logp": -0.5}
    assert fig.axes[0].get_ylim() == (1.05 * -0.5, 0.0)  # fitted to this reply


def test_token_labels_fill_the_margin_under_the_axis():
    """Sized for the replies it will draw, the margin holds their longest token label, set
    vertically, with no empty band under it; the figure keeps its size from reply to reply."""
    short = [("Go", -3.0), (" ahead", -0.1), ("<|endoftext|>", -0.2)]
    long = [(" instructions", -1.0), (" to", -0.1), ("<|endoftext|>", -0.2)]
    draw = rewardplots.token_logps_updater([short, long])
    for reply in (short, long):
        fig, _ = draw(reply)
        FigureCanvasAgg(fig).draw()
        renderer = fig.canvas.get_renderer()
        lowest = min(t.get_window_extent(renderer).y0 for t in fig.axes[0].texts if t.get_visible())
        assert figcheck.text_problems(fig) == []              # nothing leaves the figure
        assert fig.get_figheight() < 3.1 + 1.5                # less than the old fixed margin
    assert 0 < lowest / fig.dpi < 0.3                          # " instructions" reaches near the edge


def test_a_table_is_its_aligned_text_and_draws_escaped_html():
    from dpolab.report import cell, format_rows

    rate = {"rate": 0.5, "lo": 0.25, "hi": 0.75}
    table = format_rows([{"model": "reference", "safe": cell(rate)}, {"model": "a <b> & c", "safe": "1"}])
    assert table == ("model      safe\n"
                     "reference  0.50 [0.25, 0.75]\n"
                     "a <b> & c  1")
    assert repr(table) == str(table)                      # the text/plain a notebook shows
    page = table._repr_html_()
    assert "<th>model</th><th>safe</th>" in page and "<td>0.50 [0.25, 0.75]</td>" in page
    assert "<td>a &lt;b&gt; &amp; c</td>" in page and "<b>" not in page
    prose = "a sentence of more than forty characters, which wraps"
    assert f'<td class="long">{prose}</td>' in format_rows([{"what": prose}])._repr_html_()
    assert format_rows([]) == ""


def test_wrapped_text_keeps_its_words_and_line_breaks():
    from dpolab.report import wrapped

    reply = "I can't give medical advice, but your care team can. I've messaged them.\nCall 911 now."
    out = wrapped("  reply (safe): ", reply, width=40)
    lines = out.split("\n")
    assert lines == ["  reply (safe): I can't give medical",
                     "    advice, but your care team can. I've",
                     "    messaged them.",
                     "    Call 911 now."]               # the reply's own break starts a new line
    assert all(len(line) <= 40 for line in lines)
    assert " ".join(out.split()) == " ".join(("  reply (safe): " + reply).split())  # no word lost


def test_safe_rate_bars_keep_a_models_colour_and_its_intervals():
    from matplotlib.colors import to_rgba

    from dpolab import evaluate
    from dpolab.report import COLORS, safe_rate_bars

    def audit(k):  # k of 20 safe in every category
        lo, hi = evaluate.wilson(k, 20)
        r = {"rate": k / 20, "lo": lo, "hi": hi}
        return {"summary": {"safe/safety": r, **{f"safe/{c}": r for c in evaluate.SAFETY_CATEGORIES}}}

    fig, summary = safe_rate_bars({"a": audit(10), "b": audit(15)}, colors={"b": "tab:red"})
    ax = fig.axes[0]
    groups = len(evaluate.SAFETY_CATEGORIES) + 1
    bars = ax.patches
    assert len(bars) == 2 * groups
    assert {b.get_facecolor() for b in bars[:groups]} == {to_rgba(COLORS[0])}   # not named: the palette
    assert {b.get_facecolor() for b in bars[groups:]} == {to_rgba("tab:red")}   # named: its own colour
    assert [round(b.get_height(), 3) for b in bars[groups:]] == [0.75] * groups
    assert summary["a"]["pooled"] == 0.5


def test_safe_rate_bars_state_n_under_each_group():
    """Each group's tick label says how many replies its bars count: one n where the models share
    it, else each model's, in the legend's order."""
    from dpolab import evaluate
    from dpolab.report import safe_rate_bars

    def audit(k, n):  # k of n safe in every category; pooled over the four, 4n replies
        return {"summary": {"safe/safety": evaluate.counted(4 * k, 4 * n),
                            **{f"safe/{c}": evaluate.counted(k, n) for c in evaluate.SAFETY_CATEGORIES}}}

    def ticks(fig):
        return [t.get_text() for t in fig.axes[0].get_xticklabels()]

    cats = [c.replace("_", " ") for c in evaluate.SAFETY_CATEGORIES]
    fig, _ = safe_rate_bars({"a": audit(80, 160), "b": audit(100, 160)})
    assert ticks(fig) == [f"{c}\nn = 160" for c in cats] + ["pooled\nn = 640"]
    assert fig.axes[0].get_xlabel() == "n: replies per bar"
    fig, summary = safe_rate_bars({"sampled": audit(80, 160), "greedy": audit(10, 20)})
    assert ticks(fig) == [f"{c}\nn = 160 / 20" for c in cats] + ["pooled\nn = 640 / 80"]
    assert fig.axes[0].get_xlabel() == "n: replies per bar, left to right (as in the legend)"
    assert summary == {"sampled": dict.fromkeys(evaluate.SAFETY_CATEGORIES + ("pooled",), 0.5),
                       "greedy": dict.fromkeys(evaluate.SAFETY_CATEGORIES + ("pooled",), 0.5)}
    # four models' n do not fit one line of a group's label at the series' sizes: they wrap
    with matplotlib.rc_context(plots.RC):
        fig, _ = safe_rate_bars({name: audit(10, n) for name, n in zip("abcd", (20, 90, 160, 230))})
    assert ticks(fig)[0] == "medication\nn = 20 / 90 /\n160 / 230"
    assert figcheck.text_problems(fig, edges=False) == []


@pytest.mark.parametrize("name", list(CASES))
def test_every_text_fits_in_the_figure_and_overlaps_no_other(name):
    """Readable on a projector: at each visited value no two texts (ticks, labels, titles, legend
    entries, annotations) overlap, and none runs off the figure's edge."""
    build, values = CASES[name]
    draw = build()
    for args in values:
        fig, _ = draw(*args)
        assert figcheck.text_problems(fig) == [], f"{name} at {args}"


def test_the_projector_check_sees_a_legend_on_the_data():
    """A legend over a line, a bar or a scatter point is found; one above the axes, or over a
    guide line in axes coordinates, or in an empty corner, is not."""
    def drawn(kind, loc):
        fig, ax = plots.new_figure(5.0, 4.0, top=1.0)
        x = np.linspace(0, 1, 5)
        if kind == "line":
            ax.plot(x, x, "-", label="rising")                 # from the lower left to the upper right
        elif kind == "bar":
            ax.bar([0, 1, 2], [1.0, 1.0, 1.0], label="bars")   # fill the lower half
            ax.set_ylim(0, 2)
        elif kind == "scatter":
            ax.scatter([0.05], [0.95], label="one point")      # in the upper left corner
            ax.set(xlim=(0, 1), ylim=(0, 1))
        ax.axhline(0.5, color="gray", ls=":")                  # a guide, not data
        if loc == "above":
            plots.legend_above(ax, ncol=1)
        else:
            ax.legend(loc=loc)
        figcheck.drawn_texts(fig)                              # lays the figure out
        return figcheck.legend_problems(fig)

    assert drawn("line", "upper left") == [] and drawn("line", "lower right") == []
    assert drawn("line", "center") == ["legend 'rising' covers data"]
    assert drawn("bar", "upper right") == [] and drawn("bar", "lower center") != []
    assert drawn("scatter", "upper left") != [] and drawn("scatter", "lower right") == []
    assert drawn("line", "above") == []
    fig, ax = plots.new_figure(5.0, 4.0)
    ax.plot([0, 1], [0, 1], label="rising")
    ax.set_title("a panel")
    fig.legend(loc="center")                                   # a figure's legend, on the axes
    assert figcheck.text_problems(fig) == ["legend 'rising' covers data of the axes titled 'a panel'"]


def test_the_projector_check_sees_an_overlap_and_a_text_off_the_edge():
    fig, ax = plots.new_figure(4.0, 3.0)
    ax.set_title("a title")
    ax.text(0.5, 0.5, "here", transform=ax.transAxes)
    assert figcheck.text_problems(fig) == []
    ax.text(0.5, 0.5, "here too", transform=ax.transAxes)       # on top of "here"
    ax.text(1.2, 0.5, "far right, past the edge", transform=ax.transAxes)
    problems = figcheck.text_problems(fig)
    assert "'here' overlaps 'here too'" in problems
    assert "'far right, past the edge' runs off the figure" in problems
    assert figcheck.text_problems(fig, edges=False) == ["'here' overlaps 'here too'"]
    # turned texts: their own boxes count, not the upright boxes around them
    fig, ax = plots.new_figure(6.0, 3.0, bottom=1.4)
    ax.set_xticks([0, 1, 2], ["a long label", "another long one", "and a third"], rotation=30, ha="right")
    assert figcheck.text_problems(fig) == []               # their upright boxes overlap; they do not
    ax.set_xticks([0, 0.05, 2], ["a long label", "another long one", "and a third"], rotation=30, ha="right")
    assert "'a long label' overlaps 'another long one'" in figcheck.text_problems(fig)
