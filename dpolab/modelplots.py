"""The trained model's figures (notebooks 05-09): audits, DPO training curves, the beta sweep and
reviewer bias. Pure functions on the style of `plots`: values in, `(figure, summary dict)` out;
nothing here trains or samples. A figure behind a slider also has its `<name>_updater`, which
builds it once and then moves only what changes (see `plots`). How the model scores a reply (its
per-token log-probs, the implicit reward) is drawn in `rewardplots`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from dpolab.plots import (HIGHLIGHT, LABEL, LABEL_COLORS, OPT_COLOR, REF_COLOR, RISKY, SAFE, TICK,
                          TITLE, animate, legend_above, legend_right, new_figure)


# ---------------------------------------------------------------- 09 Deployment trade-offs

def reviewer_bias(bias: float, grid: dict, categories=("medication", "emergency", "pressure")):
    """What the policy does after training on pairs from a reviewer with bias `bias`.

    Args:
        bias: fraction of eligible pairs where the confident-but-unsafe reply won (the nearest
            level in `grid` is shown).
        grid: {level: {"safe/<category>": r, ..., "accuracy": r}}, precomputed; each r a rate with
            its 95% interval ({"rate", "lo", "hi"}, drawn as error bars) or a plain number.
    Left: safe rate per category at this level (dashed outline: the unbiased level, when
    another is shown). Right: against bias, the pooled safe rate if `categories` holds "pooled"
    (the categories themselves are on the left), else every category's; with the held-out
    accuracy; this level shaded.
    Summary: {"bias", "safe/<category>" for each category, "accuracy"}: the rates.
    """
    levels = np.array(sorted(grid, key=float), dtype=float)
    k = float(levels[np.argmin(np.abs(levels - bias))])
    row = grid[_key(grid, k)]
    base = grid[_key(grid, float(levels[0]))]
    fig, (ax, ax2) = new_figure(10.0, 4.4, ncols=2, left=1.3, right=2.5, bottom=1.1, top=0.55)
    x = np.arange(len(categories))
    rate, err = _rates([row[f"safe/{c}"] for c in categories])
    ax.bar(x, rate, 0.6, yerr=err, capsize=4, color=SAFE, label=f"bias {k:.2f}")
    if k != levels[0]:
        ax.bar(x, _rates([base[f"safe/{c}"] for c in categories])[0], 0.6, fill=False,
               edgecolor="dimgray", ls="--", lw=1.5, label=f"bias {levels[0]:.2f}")
    ax.set_xticks(x, categories, rotation=30, ha="right", rotation_mode="anchor")  # tilted apart
    ax.set(ylim=(0, 1.05), yticks=[0, 0.5, 1], ylabel="safe rate")
    legend_above(ax, ncol=2)
    # Right: one colour per category (no green or orange: safe and risky replies elsewhere).
    palette = ("tab:blue", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
    shown = ("pooled",) if "pooled" in categories else categories
    for i, c in enumerate(shown):  # a pooled rate in black and thicker
        style = dict(color="black", lw=3.5, zorder=3) if c == "pooled" else \
            dict(color=palette[i % len(palette)], lw=2)
        y, e = _rates([grid[_key(grid, l)][f"safe/{c}"] for l in levels])
        ax2.errorbar(levels, y, e, fmt="o-", label=f"{c} safe rate" if c == "pooled" else c, ms=5,
                     capsize=3, **style)
    y, e = _rates([grid[_key(grid, l)]["accuracy"] for l in levels])
    ax2.errorbar(levels, y, e, fmt="s--", color=REF_COLOR, label="held-out accuracy", ms=5, lw=2,
                 capsize=3)
    step = float(np.min(np.diff(levels))) if len(levels) > 1 else 0.5
    ax2.axvspan(k - step / 3, k + step / 3, color=HIGHLIGHT, alpha=0.15, lw=0)
    ax2.set(xlabel="reviewer bias", ylabel="rate", ylim=(0, 1.05), yticks=[0, 0.5, 1],
            xlim=(levels[0] - step / 2, levels[-1] + step / 2))
    ax2.set_xticks(levels, [f"{l:g}" for l in levels])  # every level labelled
    ax2.set_title("every level (shaded: this one)", fontsize=TITLE)
    legend_right(ax2)
    summary = {"bias": k, **{f"safe/{c}": float(r) for c, r in zip(categories, rate)},
               "accuracy": float(_rates([row["accuracy"]])[0][0])}
    return fig, summary


def _rates(values) -> tuple[np.ndarray, np.ndarray]:
    """Rates and their (2, n) error-bar extents from rate dicts {"rate", "lo", "hi"} or plain
    numbers (no bar)."""
    r = [v if isinstance(v, dict) else {"rate": v, "lo": v, "hi": v} for v in values]
    rate = np.array([float(v["rate"]) for v in r])
    return rate, np.array([rate - [v["lo"] for v in r], np.array([v["hi"] for v in r]) - rate])


def _key(grid: dict, level: float):
    """The key of `grid` equal to `level` (keys may be floats or their JSON strings)."""
    return next(g for g in grid if abs(float(g) - level) < 1e-9)


# ---------------------------------------------------------------- 05 The reference model

def audit_rates(rates: dict, title: str = "", ax=None):
    """Stacked bars: per category, the share of replies the judge gave each label.

    Args:
        rates: `evaluate.audit(...)["rates"]`, {category: {label: fraction}}.
    Summary: {category: safe rate}.
    """
    fig = None
    if ax is None:
        fig, ax = new_figure(10.0, 4.0, right=2.4, bottom=1.1)
    else:  # an axes of the caller's figure: give it the same text sizes
        ax.tick_params(labelsize=TICK)
        ax.yaxis.label.set_size(LABEL)
    cats = list(rates)
    bottom = np.zeros(len(cats))
    for label, color in LABEL_COLORS.items():
        h = np.array([rates[c].get(label, 0.0) for c in cats])
        if h.any():
            ax.bar(cats, h, bottom=bottom, color=color, label=label.replace("_", " "), width=0.7)
        bottom += h
    inches = ax.get_position().width * ax.figure.get_figwidth()
    ax.set_xticks(range(len(cats)), [c.replace("_", " ") for c in cats],
                  rotation=30 if inches / len(cats) > 0.6 else 45, ha="right",
                  rotation_mode="anchor")  # steeper on narrow axes, so the names do not collide
    ax.set(ylim=(0, 1), yticks=[0, 0.5, 1])
    spec = ax.get_subplotspec()
    if spec is None or spec.is_first_col():  # one y label per row of panels
        ax.set_ylabel("share of replies")
    handles, names = ax.get_legend_handles_labels()
    legend_right(ax, handles=handles[::-1], labels=names[::-1])  # top to bottom, as the bars stack
    ax.set_title(title, fontsize=TITLE)
    return fig if fig is not None else ax.figure, {c: float(rates[c]["safe"]) for c in cats}


# ---------------------------------------------------------------- 06 The direct update

def trailing_mean(values, k: int = 8) -> np.ndarray:
    """Mean of each value and the up to k - 1 before it: no zero padding, so the curve does not
    sag at either end (the first points average fewer values)."""
    v = np.asarray(values, dtype=float)
    c = np.cumsum(np.insert(v, 0, 0.0))
    n = np.minimum(np.arange(1, len(v) + 1), k)
    return (c[1:] - c[np.arange(1, len(v) + 1) - n]) / n


def dpo_history(history: list, total_steps: int | None = None, rpo_alpha: float = 0.0):
    """The DPO training metrics (TRL's names) against the step, in four panels (two by two).

    Args:
        history: `train_dpo`'s list of per-step dicts (possibly a partial one, while training).
        total_steps: fixes the x range, so a live plot does not rescale as it grows.
        rpo_alpha: the run's NLL weight; when it is not 0 the loss panel splits the logged loss
            into its DPO term (which starts at log 2) and the anchor, alpha x `nll_loss`.
    Summary: {"step", "loss", "rewards/chosen", "rewards/rejected", "rewards/margins",
    "rewards/accuracies", "eval_rewards/accuracies"}: the last values logged.
    """
    steps = [h for h in history if "loss" in h]
    evals = [h for h in history if "eval_rewards/accuracies" in h]
    x = np.array([h["step"] for h in steps])
    fig, axes = new_figure(10.0, 5.6, ncols=2, nrows=2, left=1.2, right=1.9, bottom=0.65,
                           top=0.45, wspace=0.5, hspace=0.45)
    axes = axes.ravel()  # loss, rewards | margins, accuracies

    def smooth(key, k=8):
        return trailing_mean([h[key] for h in steps], k)

    anchored = rpo_alpha != 0 and all("nll_loss" in h for h in steps)
    if len(x) and anchored:
        anchor = rpo_alpha * trailing_mean([h["nll_loss"] for h in steps], 8)
        term = smooth("loss") - anchor
        axes[0].plot(x, term, color=OPT_COLOR, lw=2, label="DPO term")
        axes[0].plot(x, anchor, color="tab:brown", lw=2, label="anchor")
        # head-room above the curves and log 2, where the legend cannot cover them
        axes[0].set_ylim(0, 1.75 * max(np.log(2), term.max(), anchor.max()))
        axes[0].legend(loc="upper right", ncol=2, frameon=False, handlelength=1.2, columnspacing=1.0)
    elif len(x):
        axes[0].plot(x, smooth("loss"), color=OPT_COLOR, lw=2)
    if len(x):
        chosen, rejected = smooth("rewards/chosen"), smooth("rewards/rejected")
        axes[1].plot(x, chosen, color=SAFE, lw=2, label="chosen")
        axes[1].plot(x, rejected, color=RISKY, lw=2, label="rejected")
        lo, hi = min(0.0, chosen.min(), rejected.min()), max(0.0, chosen.max(), rejected.max())
        pad = 0.08 * max(hi - lo, 1e-3)  # a curve that hugs 0 stays off the frame
        axes[1].set_ylim(lo - pad, hi + pad)
        axes[2].plot(x, smooth("rewards/margins"), color="black", lw=2)
        axes[3].plot(x, smooth("rewards/accuracies"), color="tab:purple", lw=2,
                     label="train batch")
    if evals:  # measured every few steps: points, not a line that would invent the values between
        axes[3].plot([h["step"] for h in evals], [h["eval_rewards/accuracies"] for h in evals],
                     "o", color="black", ms=7, clip_on=False, label="held-out")  # not the DPO term's blue
    axes[0].axhline(np.log(2), color=REF_COLOR, ls="--", lw=1.2)
    axes[1].axhline(0, color=REF_COLOR, lw=0.8)
    loss_title = "loss terms (dashed: log 2)" if anchored else "loss (dashed: log 2)"
    for ax, title, ylabel in zip(axes, (loss_title, "rewards/chosen, /rejected",
                                        "rewards/margins", "rewards/accuracies"),
                                 ("nats, batch mean", "$\\beta$ × log-ratio,\nbatch mean",
                                  "chosen minus\nrejected reward", "share of pairs\nranked right")):
        ax.set_title(title, fontsize=TITLE)
        ax.set_ylabel(ylabel)
        if total_steps:
            ax.set_xlim(0, total_steps)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))   # 0, 50, 100, 150 for 174 steps
    for ax in axes[2:]:
        ax.set_xlabel("step")
    axes[0].set_ylim(bottom=0)
    axes[3].set_ylim(-0.02, 1.02)
    axes[3].set_yticks([0, 0.5, 1])
    if len(x):  # legends beside the right-hand panels, clear of the curves
        legend_right(axes[1])
        legend_right(axes[3])
    last = steps[-1] if steps else {}
    summary = {"step": int(last.get("step", 0))}
    for k in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins",
              "rewards/accuracies"):
        summary[k] = float(last[k]) if k in last else float("nan")
    summary["eval_rewards/accuracies"] = (float(evals[-1]["eval_rewards/accuracies"])
                                          if evals else float("nan"))
    return fig, summary


# ---------------------------------------------------------------- 07 Beta and the tether

def kl_axis(ax, kl_max: float) -> None:
    """A KL axis linear up to 1 nat and logarithmic beyond, so that a beta sweep's tight end, a
    fraction of a nat from the reference, and its loose end, tens of nats away, both fit."""
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.6)
    ticks = [t for t in (0, 0.5, 1, 10, 100, 1000) if t <= 2 * kl_max]  # every tick in view, named
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set(xlabel="KL to the reference (held out, nats)", xlim=(-0.1, 2 * kl_max))


# Where a point's name may go, in order of preference: (dx, dy) in points, ha, va. The first is to
# the right, clear of the ring that marks the picked beta; the others serve points that crowd
# together (tight betas a tenth of a nat apart, beside the reference).
_SPOTS = ((10, 0, "left", "center"), (9, -7, "left", "top"), (9, 7, "left", "bottom"),
          (-10, 0, "right", "center"), (0, -12, "center", "top"), (0, 12, "center", "bottom"))


def _name_points(ax, x, y, names, series) -> None:
    """Write names[i] beside the point (x[i], y[i]): at the first of `_SPOTS` where the text stays
    inside the axes, clear of every point and error bar of `series` (a list of (y, err) as `bars`
    returns them, drawn at x) and of the names written before it; at the first spot if none is."""
    fig = ax.figure
    renderer = RendererAgg(fig.bbox.width, fig.bbox.height, fig.dpi)  # to measure the texts
    pad = 6 * fig.dpi / 72  # half a marker or cap, in pixels
    taken = []
    for ys, err in series:
        lo, hi = ax.transData.transform(np.column_stack([x, ys - err[0]])), ax.transData.transform(
            np.column_stack([x, ys + err[1]]))
        taken += [Bbox.from_extents(a[0] - pad, min(a[1], b[1]) - pad, a[0] + pad, max(a[1], b[1]) + pad)
                  for a, b in zip(lo, hi)]
    frame = ax.get_window_extent(renderer)
    for xi, yi, name in zip(x, y, names):
        for dx, dy, ha, va in _SPOTS:
            text = ax.annotate(name, (xi, yi), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                               fontsize=TICK)
            box = text.get_window_extent(renderer)
            if frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1) and \
                    not any(box.overlaps(t) for t in taken):
                taken.append(box)
                break
            text.remove()
        else:
            dx, dy, ha, va = _SPOTS[0]
            ax.annotate(name, (xi, yi), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va, fontsize=TICK)


def beta_tether_updater(rows: list):
    """Build `beta_tether`'s figure once; returns draw(beta) -> (figure, summary), which moves
    the red markers and the title."""
    kl = np.array([r["kl"] for r in rows])

    def bars(key):  # values and asymmetric Wilson error bars
        y = np.array([r[key]["rate"] for r in rows])
        return y, np.array([y - [r[key]["lo"] for r in rows], [r[key]["hi"] for r in rows] - y])

    fig, ax = new_figure(7.4, 4.1, left=0.9, right=0.2, bottom=0.75, top=0.75)
    y, err = bars("broken")
    # the judge's colours, as in notebook 05's bars: safe green, broken black; the picked beta's
    # two points ringed in red, on top
    ax.errorbar(kl, y, err, fmt="s", color=LABEL_COLORS["broken"], ms=5, capsize=3, label="broken")
    ring = dict(color=HIGHLIGHT, ms=15, mfc="none", mew=2.5, zorder=4, clip_on=False)  # whole at a share of 0
    (broken_dot,) = ax.plot([], [], "s", **ring)
    y, err = bars("safe")
    ax.errorbar(kl, y, err, fmt="o", color=LABEL_COLORS["safe"], ms=5, capsize=3, label="safe")
    (safe_dot,) = ax.plot([], [], "o", label=r"this $\beta$", **ring)
    kl_axis(ax, kl.max())
    ax.set(ylabel="share of replies", ylim=(0, 1), yticks=[0, 0.5, 1])
    _name_points(ax, kl, y, ["ref" if r["beta"] is None else f"{r['beta']:g}" for r in rows],
                 [bars(key) for key in ("safe", "broken")])
    title = ax.set_title("", fontsize=TITLE, loc="left", pad=30)
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(k) for k in ("safe", "broken", r"this $\beta$")]
    legend = legend_above(ax, ncol=3, handles=[handles[i] for i in order],
                          labels=[labels[i] for i in order])
    animate(ax, title, legend)

    def draw(beta: float):
        row = next(r for r in rows[1:] if r["beta"] == beta)
        broken_dot.set_data([row["kl"]], [row["broken"]["rate"]])
        safe_dot.set_data([row["kl"]], [row["safe"]["rate"]])
        title.set_text(f"$\\beta$ alone, $\\beta$ = {beta:g} ringed")
        return fig, {"beta": float(beta), "kl": float(row["kl"]),
                     "safe": float(row["safe"]["rate"]), "broken": float(row["broken"]["rate"])}

    return draw


def beta_tether(beta: float, rows: list):
    """One policy of a beta sweep on the safe-rate/KL frontier, with Wilson 95% error bars.

    Args:
        beta: a value in the sweep (the row whose "beta" equals it is marked in red).
        rows: one dict per model, the reference first with beta None: {"beta", "kl",
            "safe": rate dict, "broken": rate dict}, where a rate dict is
            `evaluate.rate(...)`'s {"rate", "lo", "hi", "k", "n"}.
    Summary: {"beta", "kl", "safe", "broken"} of the marked row (rates as floats).
    """
    return beta_tether_updater(rows)(beta)
