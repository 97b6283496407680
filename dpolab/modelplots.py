"""The trained model's figures (notebooks 05-09): audits, per-token log-probs, DPO training
curves, the beta sweep, reviewer bias and reward rankings. Pure functions on the style of
`plots`: values in, `(figure, summary dict)` out; nothing here trains or samples. A figure behind
a slider also has its `<name>_updater`, which builds it once and then moves only what changes
(see `plots`).
"""

from __future__ import annotations

import numpy as np
from matplotlib import transforms
from matplotlib.patches import Patch

from dpolab.plots import (HIGHLIGHT, LABEL, LABEL_COLORS, OPT_COLOR, REF_COLOR, RISKY, SAFE, TICK,
                          TITLE, animate, legend_above, legend_right, new_figure)


# ---------------------------------------------------------------- 08 The hidden reward

def reward_ranking_updater(table: dict):
    """Build `reward_ranking`'s figure once, tall enough for the prompt with the most candidates;
    returns draw(prompt) -> (figure, summary). A new prompt brings new bars, names and scales, so
    a change redraws the whole figure: only building it is saved. The vertical axis spans the
    prompt's own candidates, so a prompt with fewer of them leaves no empty row."""
    from scipy.stats import spearmanr

    most = max(len(row["labels"]) for row in table.values())
    fig, (ax, ax2) = new_figure(10.0, 1.6 + 0.5 * most, ncols=2, left=1.9, bottom=0.85, top=0.5,
                                wspace=0.12)
    for a, title, xlabel in ((ax, "implicit: beta log pi/pi_ref", "reward (green: the safe reply)"),
                             (ax2, "explicit: reward model", "score (Bradley-Terry)")):
        a.axvline(0, color="black", lw=0.8)
        a.set_title(title, fontsize=TITLE)
        a.set_xlabel(xlabel)
    shown = []

    def draw(prompt: str):
        row = table[prompt]
        labels = list(row["labels"])
        imp, exp = np.asarray(row["implicit"], float), np.asarray(row["explicit"], float)
        order = np.argsort(-imp)                          # best implicit reward on top
        y = np.arange(most - len(labels), most)[::-1]     # from the top slot down
        colors = [SAFE if labels[k] == "safe" else RISKY for k in order]  # green: the safe reply
        for container in shown:  # the last prompt's bars
            container.remove()
        shown[:] = [ax.barh(y, imp[order], color=colors), ax2.barh(y, exp[order], color=colors)]
        ax.set_yticks(y, [labels[k].replace("_", " ") for k in order])
        ax2.set_yticks(y, [])
        pad = 0.05 * (len(labels) - 0.2)  # autoscale's margins around bars 0.8 high at y
        for a in (ax, ax2):
            a.set_ylim(y[-1] - 0.4 - pad, y[0] + 0.4 + pad)
            a.relim()
            a.autoscale_view(scaley=False)
        rho = float(spearmanr(imp, exp).statistic)
        return fig, {"prompt": prompt[:40] + ("..." if len(prompt) > 40 else ""),
                     "top_implicit": labels[int(np.argmax(imp))],
                     "top_explicit": labels[int(np.argmax(exp))], "spearman": rho}

    return draw


def reward_ranking(prompt: str, table: dict):
    """Candidate replies to one new prompt, ranked by the implicit reward, beside the explicit one.

    Args:
        prompt: key into `table`.
        table: {prompt: {"labels": [...], "implicit": [...], "explicit": [...]}}, precomputed
            (implicit = beta log pi / pi_ref, explicit = the Bradley-Terry reward model's score).
    Summary: {"prompt", "top_implicit", "top_explicit", "spearman"}: the best candidate under
    each reward and the rank correlation of the two rewards over the candidates.
    """
    return reward_ranking_updater({prompt: table[prompt]})(prompt)


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


TOKEN_SHADES = ("#9ecae1", "#3182bd", "#08306b")  # log p above -0.5, -2 to -0.5, below -2


def token_logps_updater():
    """Build `token_logps`'s figure once; returns draw(tokens, title="") -> (figure, summary).

    A change reuses the bars and the token labels (one of each per token of the longest reply
    drawn so far; those past this reply's end are hidden) and fits the axes to this reply, as a
    new figure would, so the whole figure is drawn again: it saves building it, not drawing it.
    """
    fig, ax = new_figure(10.0, 4.6, left=1.1, right=1.9, bottom=1.5, top=0.45)
    width_px = ax.get_position().width * fig.get_figwidth() * fig.dpi
    # shades of one blue, darker where the token is less likely (not the judge's label colours);
    # a dot on each bar, so a token the model was sure of (log p near 0, no bar) still shows
    legend_right(ax, handles=[Patch(color=TOKEN_SHADES[0], label="above -0.5"),
                               Patch(color=TOKEN_SHADES[1], label="-2 to -0.5"),
                               Patch(color=TOKEN_SHADES[2], label="below -2")], title="log p")
    dots, = ax.plot([], [], "o", color="black", ms=4, zorder=3, clip_on=False)
    ax.set_xticks([])
    ax.set_ylabel("log p(token)")
    ax.axhline(0, color="black", lw=0.8)
    heading = ax.set_title("", fontsize=LABEL, loc="left")  # a reply's text: long, a size smaller
    # token labels as plain texts under the axis: a third cheaper to draw than one tick per token
    under = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    bars, texts = [], []

    def draw(tokens: list, title: str = ""):
        v = np.array([lp for _, lp in tokens], dtype=float)
        labels = [repr(t)[1:-1] if t != "<|endoftext|>" else "EOS" for t, _ in tokens]
        # token labels as large as the projector rule asks, smaller only where a long reply leaves
        # each less room than a line of text needs (about 0.6 pt per pixel of its slot)
        size = min(TICK - 1, 0.6 * width_px / len(v))
        new = np.arange(len(bars), len(v))  # positions no reply so far reached
        bars.extend(ax.bar(new, np.zeros(len(new)), width=0.8))
        texts.extend(ax.text(x, -0.02, "", rotation=90, fontsize=TICK - 1, ha="center", va="top",
                             transform=under) for x in new)
        for x, (bar, text) in enumerate(zip(bars, texts)):
            bar.set_visible(x < len(v))
            text.set_visible(x < len(v))
            if x < len(v):
                bar.set_height(v[x])
                bar.set_facecolor(TOKEN_SHADES[2] if v[x] < -2.0 else TOKEN_SHADES[1 if v[x] < -0.5 else 0])
                text.set_text(labels[x])
                text.set_fontsize(size)
        dots.set_data(np.arange(len(v)), v)
        # what autoscaling gives: a 5% margin below the lowest bar, none above 0 (log p <= 0)
        ax.set(xlim=(-0.7, len(v) - 0.3), ylim=(1.05 * v.min() if v.min() < 0 else -1.0, 0.0))
        heading.set_text(title)
        k = int(np.argmin(v))
        return fig, {"tokens": len(v), "logp": float(v.sum()), "lowest": labels[k],
                     "eos_logp": float(v[-1])}

    return draw


def token_logps(tokens: list, title: str = ""):
    """One bar per completion token: its log-prob under the model (EOS last).

    Args:
        tokens: [(token_text, logp), ...] as `logprobs.response_logps(..., per_token=True)` gives.
    Summary: {"tokens", "logp" (the sum: the sequence log-prob), "lowest" (the least likely
    token), "eos_logp"}.
    """
    return token_logps_updater()(tokens, title)


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
        axes[0].set_ylim(0, 1.5 * max(np.log(2), term.max(), anchor.max()))
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
                                 ("nats, batch mean", "beta x log-ratio,\nbatch mean",
                                  "chosen minus\nrejected reward", "share of pairs\nranked right")):
        ax.set_title(title, fontsize=TITLE)
        ax.set_ylabel(ylabel)
        if total_steps:
            ax.set_xlim(0, total_steps)
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
    fraction of a nat from the reference, and its loose end, 100 nats away, both fit."""
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.6)
    ticks = [t for t in (0, 0.5, 1, 10, 100, 1000) if t <= 1.5 * kl_max]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.set(xlabel="KL to the reference (held out, nats)", xlim=(-0.1, 2 * kl_max))


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
    ring = dict(color=HIGHLIGHT, ms=15, mfc="none", mew=2.5, zorder=4)
    (broken_dot,) = ax.plot([], [], "s", **ring)
    y, err = bars("safe")
    ax.errorbar(kl, y, err, fmt="o", color=LABEL_COLORS["safe"], ms=5, capsize=3, label="safe")
    (safe_dot,) = ax.plot([], [], "o", label="this beta", **ring)
    for r, k, v in zip(rows, kl, y):  # each point named by its beta, to its right, clear of the ring
        ax.annotate("ref" if r["beta"] is None else f"{r['beta']:g}", (k, v), xytext=(10, 0),
                    textcoords="offset points", va="center", fontsize=TICK)
    kl_axis(ax, kl.max())
    ax.set(ylabel="share of replies", ylim=(0, 1), yticks=[0, 0.5, 1])
    title = ax.set_title("", fontsize=TITLE, loc="left", pad=30)
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(k) for k in ("safe", "broken", "this beta")]
    legend = legend_above(ax, ncol=3, handles=[handles[i] for i in order],
                          labels=[labels[i] for i in order])
    animate(ax, title, legend)

    def draw(beta: float):
        row = next(r for r in rows[1:] if r["beta"] == beta)
        broken_dot.set_data([row["kl"]], [row["broken"]["rate"]])
        safe_dot.set_data([row["kl"]], [row["safe"]["rate"]])
        title.set_text(f"beta alone, beta = {beta:g} ringed")
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
