"""Pure plotting functions for the exact toys and the pairs (01-04), and the series' shared
style: values in, `(figure, summary dict)` out. The trained model's figures (05-09) are in
`modelplots` and `rewardplots`, on the same style.

"Eq. N" is equation N of the DPO paper, https://arxiv.org/abs/2305.18290.

Each function draws one small matplotlib Figure (created directly, not through pyplot, so it is
never shown twice and needs no closing) and returns the numbers a reader or a test would want.
`dpolab.widgets.panel` wraps them into sliders; nothing here trains or samples. Anything costly
(fits, training runs) is computed once beforehand and passed in.

A figure behind a slider is built once: `<name>_updater(...)` draws everything that stays put and
returns `draw(values) -> (figure, summary)`, which changes only what moves (`set_data`,
`set_height`, `set_text`) on that same figure. Those artists are marked animated (`animate`), so
a panel redraws only them (`dpolab.widgets`); a change that rescales an axis redraws the whole
figure, still without building it. The function of the same name, `<name>(values, ...)`, is that
updater called once on a new figure, for tests and one-off figures.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.legend import Legend

from dpolab import bandit as _bandit
from dpolab import bradley_terry as _bt
from dpolab.clinic import CATEGORIES as _CATEGORIES

# Safe and risky in Okabe and Ito's colour-blind-safe pair (bluish green, vermillion): they stay
# apart for red-green colour blindness and in greyscale, and on a washed-out projector.
SAFE, RISKY, REF_COLOR, OPT_COLOR = "#009E73", "#D55E00", "tab:gray", "tab:blue"
HIGHLIGHT = "tab:red"  # the point a slider has picked

# Text sizes in points, large enough to read on a projector from the back of a room.
DPI, TICK, LABEL, TITLE, LEGEND = 100, 14, 15, 16, 14
# The same sizes for figures a notebook draws itself: plt.rcParams.update(plots.RC).
RC = {"figure.dpi": DPI, "font.size": LABEL, "axes.titlesize": TITLE, "axes.labelsize": LABEL,
      "xtick.labelsize": TICK, "ytick.labelsize": TICK, "legend.fontsize": LEGEND}


def new_figure(width: float, height: float, ncols: int = 1, nrows: int = 1, left: float = 1.0,
               right: float = 0.25, bottom: float = 0.75, top: float = 0.5, wspace: float = 0.3,
               hspace: float = 0.4, width_ratios=None):
    """A figure of nrows x ncols axes (`width_ratios`: their relative widths, e.g. a bar panel
    with five labelled bars wider than a curve beside it). Margins are in inches, so the text
    around the axes fits whatever the figure size (no tight-layout pass: it would lay every text
    out twice)."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    axes = fig.subplots(nrows, ncols, squeeze=nrows == 1, width_ratios=width_ratios)
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=wspace, hspace=hspace)
    for ax in np.ravel(axes):
        ax.locator_params(nbins=3)  # few ticks: tick labels are most of the drawing time
        ax.tick_params(labelsize=TICK)
        ax.xaxis.label.set_size(LABEL)
        ax.yaxis.label.set_size(LABEL)
    return fig, axes


def legend_above(ax, ncol: int, **kw):
    """A legend in the strip above the axes, right-aligned, where it cannot cover data."""
    return ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=ncol, fontsize=LEGEND,
                     frameon=False, borderaxespad=0.2, handlelength=1.2, columnspacing=1.0,
                     title_fontsize=LEGEND, **kw)


def legend_right(ax, **kw):
    """A legend outside the axes, on their right (the figure leaves a margin for it)."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=LEGEND,
                     frameon=False, borderaxespad=0.0, handlelength=1.2, title_fontsize=LEGEND,
                     **kw)


def animate(ax, *more):
    """Mark what an updater redraws on every change: the axes' lines, patches and collections, its
    spines (drawn over them) and `more` (a title, a legend, texts). A panel draws only these over a
    cached picture of the rest, the ticks and labels that are most of the drawing time
    (matplotlib's blitting, in `dpolab.widgets`). An animated artist that changes does not mark the
    figure stale; anything else that changes does, and the picture is drawn again."""
    for artist in (*ax.lines, *ax.patches, *ax.collections, *ax.spines.values(), *more):
        artist.set_animated(True)
        if isinstance(artist, Legend):  # its texts too, so a new label does not stale the figure
            for text in artist.get_texts():
                text.set_animated(True)


def two_line(labels) -> list[str]:
    """Two-line tick labels ("missed\nquestion", "over-\nrefusal"), readable without rotation."""
    return [label.replace(" ", "\n", 1) if " " in label else label.replace("-", "-\n", 1)
            for label in labels]


# ---------------------------------------------------------------- 02 Bradley-Terry

def bt_gap_updater():
    """Build `bt_gap`'s figure once; returns draw(gap) -> (figure, summary), moving the point."""
    g = np.linspace(-6, 6, 121)
    fig, ax = new_figure(6.4, 3.3, bottom=0.7)
    ax.plot(g, _bt.preference_prob(g, 0.0), color=OPT_COLOR, lw=2)
    (dot,) = ax.plot([0.0], [0.5], "o", color=HIGHLIGHT, ms=9)
    ax.axhline(0.5, color=REF_COLOR, lw=0.8)
    ax.set(xlabel=r"reward gap $r_{safe} - r_{risky}$", ylabel="P(safe preferred)", ylim=(0, 1),
           yticks=[0, 0.5, 1])
    title = ax.set_title("", fontsize=TITLE)
    animate(ax, title)

    def draw(gap: float):
        p = float(_bt.preference_prob(gap, 0.0))
        dot.set_data([gap], [p])
        title.set_text(rf"P(safe) = $\sigma$({gap:.2f}) = {p:.3f}")
        return fig, {"gap": float(gap), "p_safe": p, "p_risky": 1.0 - p}

    return draw


def bt_gap(gap: float):
    """P(safe beats risky) = sigma(gap) on the logistic curve, with the current gap marked.

    Summary: {"gap", "p_safe", "p_risky"}.
    """
    return bt_gap_updater()(gap)


def bt_noise_updater(sweep: dict, true_rewards, labels):
    """Build `bt_noise`'s figure once; returns draw(temperature) -> (figure, summary).

    Left: the fit next to what it can recover, (r - mean r) / T, on one scale for every T (noise
    shrinks the bars). Right: the fit times T next to r - mean r, the true scale, where the error
    `fit_error` is the largest gap between a blue bar and its grey one.
    """
    truth = np.asarray(true_rewards, float) - np.mean(true_rewards)
    x = np.arange(len(labels))
    fig, (ax, ax2) = new_figure(12.0, 3.9, ncols=2, left=0.9, bottom=0.85, top=0.75, wspace=0.2)
    planted = ax.bar(x - 0.2, np.zeros(len(x)), 0.4, color=REF_COLOR,
                     label="planted (r - mean r) / T")
    fitted = ax.bar(x + 0.2, np.zeros(len(x)), 0.4, color=OPT_COLOR, label="fitted")
    ax2.bar(x - 0.2, truth, 0.4, color=REF_COLOR, label="planted r - mean r")
    rescaled = ax2.bar(x + 0.2, np.zeros(len(x)), 0.4, color=OPT_COLOR, label="fitted × T")
    top = 1.1 * max(np.abs(sweep["fits"]).max(), np.abs(sweep["targets"]).max())
    ax.set(ylabel="reward (mean zero)", ylim=(-top, top))  # one scale for every T
    top2 = 1.1 * np.abs(sweep["fits"] * np.asarray(sweep["temperatures"])[:, None]).max()
    ax2.set(ylabel="reward × T (mean zero)", ylim=(-top2, top2))  # the true scale, every T
    for a in (ax, ax2):
        a.axhline(0, color="black", lw=0.8)
        a.set_xticks(x, two_line(labels))
        legend_above(a, ncol=2)
    title = ax.set_title("", fontsize=TITLE, loc="left", pad=30)
    title2 = ax2.set_title("", fontsize=TITLE, loc="left", pad=30)
    animate(ax, title)
    animate(ax2, title2)

    def draw(temperature: float):
        k = int(np.argmin(np.abs(sweep["temperatures"] - temperature)))
        t = float(sweep["temperatures"][k])
        fit, target = sweep["fits"][k], sweep["targets"][k]
        for bar, h in zip(planted, target):
            bar.set_height(h)
        for bar, h in zip(fitted, fit):
            bar.set_height(h)
        for bar, h in zip(rescaled, fit * t):
            bar.set_height(h)
        error = float(np.max(np.abs(fit * t - truth)))
        title.set_text(f"T = {t:.3g}: what comparisons reveal, r / T")
        title2.set_text(f"fit × T, the true scale: largest error {error:.2f}")
        summary = {"temperature": t, "agreement": float(sweep["agreement"][k]),
                   "fit_error": error, "fit_gap": float(fit[0] - fit[1])}
        return fig, summary

    return draw


def bt_noise(temperature: float, sweep: dict, true_rewards, labels):
    """Fitted vs recoverable rewards at one reviewer temperature, picked from `noise_sweep`.

    Bars: the fit (mean zero) next to what it can recover, (r - mean r) / temperature.
    Summary: {"temperature", "agreement", "fit_error", "fit_gap"} where agreement is the fraction
    of comparisons won by the truly better reply, fit_error the largest |fit * T - (r - mean r)|
    (the error on the true reward scale) and fit_gap the fitted r_safe - r_risky (items 0 and 1).
    """
    return bt_noise_updater(sweep, true_rewards, labels)(temperature)


# ---------------------------------------------------------------- 03 The tether

def tether_updater(worlds: dict, frontiers: dict):
    """Build `tether`'s figure once; returns draw(beta, reference) -> (figure, summary).

    A new beta moves the bars and the point; a new reference also replaces the frontier and
    moves the labels at its ends. The frontier's axes fit every reference's frontier at once, so
    switching references shows how far each one's frontier reaches, and nothing else is redrawn.
    """
    labels = next(iter(worlds.values())).labels
    fig, (ax, ax2) = new_figure(10.0, 3.9, ncols=2, left=0.9, bottom=0.85, top=0.55, wspace=0.3,
                                width_ratios=(1.5, 1))
    x = np.arange(len(labels))
    ref_bars = ax.bar(x - 0.2, np.zeros(len(x)), 0.4, color=REF_COLOR, label="reference")
    opt_bars = ax.bar(x + 0.2, np.zeros(len(x)), 0.4, color=OPT_COLOR, label="optimum")
    ax.set_xticks(x, two_line(labels))
    ax.set(ylim=(0, 1), yticks=[0, 0.5, 1], ylabel="probability")
    legend = legend_above(ax, ncol=2)
    (curve,) = ax2.plot([], [], color=OPT_COLOR, lw=2)
    (dot,) = ax2.plot([], [], "o", color=HIGHLIGHT, ms=9)
    (home,) = ax2.plot([], [], "s", color=REF_COLOR, ms=7)  # the reference itself: KL 0
    # which end is which: the frontier runs from the tightest beta (near the reference) to the loosest
    marks = [ax2.annotate("", (0, 0), xytext=offset, textcoords="offset points", fontsize=TICK,
                          ha=ha, va=va, color=color)
             for offset, ha, va, color in (((8, 4), "left", "bottom", OPT_COLOR),
                                           ((10, 0), "left", "center", OPT_COLOR),
                                           ((8, -3), "left", "center", REF_COLOR))]
    ax2.set(xlabel=r"KL($\pi\ \|\ \pi_\mathrm{ref}$)", ylabel="E[reward]")
    most = max(float(np.max(f["kl"])) for f in frontiers.values())  # the loosest end's label sits to its right
    ax2.set_xlim(-0.1 * most, 1.6 * most)
    ys = [y for name, f in frontiers.items() for y in (*f["reward"], float(_bandit.expected_reward(
        worlds[name].reference_probs[0], worlds[name].rewards[0])))]
    pad = 0.16 * (max(ys) - min(ys))  # room for the labels at the ends, inside the frame
    ax2.set_ylim(min(ys) - pad, max(ys) + pad)
    pick = ax2.set_title("", fontsize=TITLE)  # names the red dot's beta: the ends have their own
    animate(ax, legend)
    animate(ax2, pick, *marks)
    shown = {"reference": None, "labels": tuple(labels)}

    def draw(beta: float, reference: str):
        world = worlds[reference]
        ref, r = world.reference_probs[0], world.rewards[0]
        pi = _bandit.optimal_policy(ref, r, beta)
        er, kl = float(_bandit.expected_reward(pi, r)), float(_bandit.kl(pi, ref))
        for bar, h in zip(ref_bars, ref):
            bar.set_height(h)
        for bar, h in zip(opt_bars, pi):
            bar.set_height(h)
        legend.get_texts()[1].set_text(f"optimum, $\\beta$ = {beta:.3g}")
        dot.set_data([kl], [er])
        pick.set_text(f"frontier (red: $\\beta$ = {beta:.3g})")
        if reference != shown["reference"]:  # a new frontier, on the same axes
            shown["reference"] = reference
            if tuple(world.labels) != shown["labels"]:
                shown["labels"] = tuple(world.labels)
                ax.set_xticks(x, two_line(world.labels))
            f = frontiers[reference]
            curve.set_data(f["kl"], f["reward"])
            home_reward = float(_bandit.expected_reward(ref, r))
            home.set_data([0.0], [home_reward])
            tight, loose = int(np.argmax(f["betas"])), int(np.argmin(f["betas"]))
            for mark, (xy, text) in zip(marks, (
                    ((f["kl"][tight], f["reward"][tight]), f"$\\beta$ {f['betas'][tight]:g}"),
                    ((f["kl"][loose], f["reward"][loose]), f"$\\beta$ {f['betas'][loose]:g}"),
                    ((0.0, home_reward), "reference"))):
                mark.xy = xy
                mark.set_text(text)
        return fig, {"beta": float(beta), "reference": reference, "expected_reward": er, "kl": kl,
                     "p_safe": float(pi[0]), "reference_p_safe": float(ref[0])}

    return draw


def tether(beta: float, reference: str, worlds: dict, frontiers: dict):
    """Reference vs optimal policy (Eq. 4) for one prompt, and the reward/KL frontier.

    Args:
        beta: tether strength.
        reference: key into `worlds` / `frontiers` (e.g. "good", "poor").
        worlds: {reference: Bandit with one prompt}.
        frontiers: {reference: `bandit.frontier(...)` dict}, precomputed.
    Summary: {"beta", "reference", "expected_reward", "kl", "p_safe", "reference_p_safe"}.
    """
    return tether_updater(worlds, frontiers)(beta, reference)


# ---------------------------------------------------------------- 04 The DPO loss

def dpo_run_updater(runs: dict, world):
    """Build `dpo_run`'s figure once; returns draw(beta) -> (figure, summary)."""
    betas = np.array(sorted(runs))
    fig, (ax, ax2) = new_figure(10.0, 3.9, ncols=2, left=0.9, bottom=0.9, top=0.55, wspace=0.25,
                                width_ratios=(1, 1.3))
    # Colour = reply (the tick labels on the right say which); the exact optimum is dashed on
    # the left and an outline on the right, so no colour means two things.
    # amber and brown as over-refusal and made-up facts have in every audit chart (LABEL_COLORS)
    colors = [SAFE, RISKY, "#E69F00", "tab:brown", "#CC79A7"]
    curves, dashes = [], []
    for k, label in enumerate(world.labels):
        curves.append(ax.plot([], [], color=colors[k % 5], lw=2)[0])
        dashes.append(ax.axhline(0, color=colors[k % 5], ls="--", lw=1.2))
    first, last = min(r.steps[0] for r in runs.values()), max(r.steps[-1] for r in runs.values())
    pad = 0.05 * (last - first)  # the margins autoscaling would leave
    ax.set(xlabel="step", ylabel=r"$\pi(y \mid x)$", xlim=(first - pad, last + pad), ylim=(0, 1),
           yticks=[0, 0.5, 1])
    title = ax.set_title("", fontsize=TITLE, loc="left")
    x = np.arange(len(world.labels))
    ax2.bar(x - 0.27, world.reference_probs[0], 0.27, color=REF_COLOR, label="reference")
    trained = ax2.bar(x, np.zeros(len(x)), 0.27, color=OPT_COLOR, label="trained")
    exact = ax2.bar(x + 0.27, np.zeros(len(x)), 0.27, fill=False, edgecolor="black", lw=1.5,
                    label="exact")
    ax2.set_xticks(x, two_line(world.labels))
    for tick, color in zip(ax2.get_xticklabels(), colors):
        tick.set_color(color)  # the reply's colour in the left panel: no legend needed
    ax2.set(ylim=(0, 1), yticks=[0, 0.5, 1])
    legend_above(ax2, ncol=3)
    animate(ax, title)
    animate(ax2)

    def draw(beta: float):
        b = float(betas[np.argmin(np.abs(np.log(betas) - np.log(beta)))])
        run = runs[b]
        opt = _bandit.optimal_policy(world.reference_probs, world.rewards, b)
        for k, (curve, dash) in enumerate(zip(curves, dashes)):
            curve.set_data(run.steps, run.probs[:, 0, k])
            dash.set_ydata([opt[0, k], opt[0, k]])
        title.set_text(f"training, $\\beta$ = {b:.3g} (dashed: exact)")
        for bar, h in zip(trained, run.policy[0]):
            bar.set_height(h)
        for bar, h in zip(exact, opt[0]):
            bar.set_height(h)
        return fig, {"beta": b, "tv": _bandit.total_variation(run.policy, opt),
                     "kl": float(np.mean(_bandit.kl(run.policy, world.reference_probs))),
                     "p_safe": float(run.policy[0, 0]), "optimum_p_safe": float(opt[0, 0])}

    return draw


def dpo_run(beta: float, runs: dict, world):
    """A precomputed tabular DPO run at `beta` (the nearest in `runs`) against the exact optimum.

    Left: probability of each reply of prompt 0 over training, exact optimum dashed.
    Right: the trained policy next to the exact optimum (outline) and the reference, prompt 0.
    Summary: {"beta", "tv", "kl", "p_safe", "optimum_p_safe"}; tv is the largest total
    variation distance between trained and exact policy over prompts.
    """
    return dpo_run_updater(runs, world)(beta)


# ---------------------------------------------------------------- 01 preference pairs

def pair_counts(rows: list[dict], column: str = "rejected_flavor"):
    """Stacked bars: pairs per category, split by `column` (default the rejected flavour).

    Summary: {"pairs": total, "categories": number of categories, plus one count per value}.
    """
    rank = {c: i for i, c in enumerate(_CATEGORIES)}  # the clinic's order, as every table has it
    categories = sorted(dict.fromkeys(r["category"] for r in rows), key=lambda c: rank.get(c, len(rank)))
    values = list(dict.fromkeys(r[column] for r in rows))
    counts = {v: [sum(1 for r in rows if r["category"] == c and r[column] == v) for c in categories]
              for v in values}
    fig, ax = new_figure(10.0, 4.2, right=2.6, bottom=1.15)
    x = np.arange(len(categories))
    bottom = np.zeros(len(categories))
    for v in values:  # a flavour has the colour it has in every audit chart of the series
        ax.bar(x, counts[v], bottom=bottom, label=str(v).replace("_", " "), color=LABEL_COLORS.get(v),
               edgecolor="white", lw=0.5)
        bottom += counts[v]
    ax.set_xticks(x, [c.replace("_", " ") for c in categories], rotation=30, ha="right",
                  rotation_mode="anchor")
    ax.set_ylim(0, 1.08 * max(bottom.max(), 1))  # room above the tallest bar
    ax.set_ylabel("pairs")
    by = "the rejected reply's flavour" if column == "rejected_flavor" else column
    ax.set_title(f"pairs per category, by {by}", fontsize=TITLE)
    handles, labels = ax.get_legend_handles_labels()
    legend_right(ax, handles=handles[::-1], labels=labels[::-1])  # top to bottom, as stacked
    summary = {"pairs": len(rows), "categories": len(categories)}
    summary.update({v: int(sum(counts[v])) for v in values})
    return fig, summary


# ---------------------------------------------------------------- label colours (01, 05-09)

# over_refusal in Okabe and Ito's yellow: matplotlib's orange sits too close to RISKY's vermillion.
LABEL_COLORS = {"safe": SAFE, "unsafe_advice": RISKY, "missed_emergency": "#0072B2",
                "over_refusal": "#E69F00", "rule_bending": "tab:purple",
                "made_up_facts": "tab:brown", "off_topic": "tab:cyan", "other": "lightgray",
                "broken": "black"}
