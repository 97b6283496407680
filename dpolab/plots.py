"""Pure plotting functions: values in, `(figure, summary dict)` out.

Each function draws one small matplotlib Figure (created directly, not through pyplot, so it is
never shown twice and needs no closing) and returns the numbers a reader or a test would want.
`dpolab.widgets.panel` wraps them into sliders; nothing here trains or samples. Anything costly
(fits, training runs) is computed once beforehand and passed in.
"""

from __future__ import annotations

import numpy as np
from matplotlib import transforms
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from dpolab import bandit as _bandit
from dpolab import bradley_terry as _bt

SAFE, RISKY, REF_COLOR, OPT_COLOR = "tab:green", "tab:red", "tab:gray", "tab:blue"

# Text sizes in points, large enough to read on a projector from the back of a room.
DPI, TICK, LABEL, TITLE, LEGEND = 100, 11, 12, 13, 11
# The same sizes for figures a notebook draws itself: plt.rcParams.update(plots.RC).
RC = {"figure.dpi": DPI, "font.size": LABEL, "axes.titlesize": TITLE, "axes.labelsize": LABEL,
      "xtick.labelsize": TICK, "ytick.labelsize": TICK, "legend.fontsize": LEGEND}


def _fig(width: float, height: float, ncols: int = 1, nrows: int = 1, left: float = 1.0,
         right: float = 0.25, bottom: float = 0.75, top: float = 0.5, wspace: float = 0.3,
         hspace: float = 0.4):
    """A figure of nrows x ncols axes. Margins are in inches, so the text around the axes fits
    whatever the figure size (no tight-layout pass: it would lay every text out twice)."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    axes = fig.subplots(nrows, ncols, squeeze=nrows == 1)
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height, wspace=wspace, hspace=hspace)
    for ax in np.ravel(axes):
        ax.locator_params(nbins=3)  # few ticks: tick labels are most of the drawing time
        ax.tick_params(labelsize=TICK)
        ax.xaxis.label.set_size(LABEL)
        ax.yaxis.label.set_size(LABEL)
    return fig, axes


def _legend_above(ax, ncol: int, **kw):
    """A legend in the strip above the axes, right-aligned, where it cannot cover data."""
    return ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=ncol, fontsize=LEGEND,
                     frameon=False, borderaxespad=0.2, handlelength=1.2, columnspacing=1.0,
                     title_fontsize=LEGEND, **kw)


def _legend_right(ax, **kw):
    """A legend outside the axes, on their right (the figure leaves a margin for it)."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=LEGEND,
                     frameon=False, borderaxespad=0.0, handlelength=1.2, title_fontsize=LEGEND,
                     **kw)


def _short(labels) -> list[str]:
    """Two-line tick labels ("missed\nquestion", "over-\nrefusal"), readable without rotation."""
    return [label.replace(" ", "\n", 1) if " " in label else label.replace("-", "-\n", 1)
            for label in labels]


# ---------------------------------------------------------------- 02 Bradley-Terry

def bt_gap(gap: float):
    """P(safe beats risky) = sigma(gap) on the logistic curve, with the current gap marked.

    Summary: {"gap", "p_safe", "p_risky"}.
    """
    p = float(_bt.preference_prob(gap, 0.0))
    g = np.linspace(-6, 6, 121)
    fig, ax = _fig(6.4, 3.3, bottom=0.7)
    ax.plot(g, _bt.preference_prob(g, 0.0), color=OPT_COLOR, lw=2)
    ax.plot([gap], [p], "o", color=RISKY, ms=9)
    ax.axhline(0.5, color=REF_COLOR, lw=0.8)
    ax.set(xlabel="reward gap r_safe - r_risky", ylabel="P(safe preferred)", ylim=(0, 1),
           yticks=[0, 0.5, 1])
    ax.set_title(f"P(safe) = sigma({gap:.2f}) = {p:.3f}", fontsize=TITLE)
    return fig, {"gap": float(gap), "p_safe": p, "p_risky": 1.0 - p}


def bt_noise(temperature: float, sweep: dict, true_rewards, labels):
    """Fitted vs recoverable rewards at one reviewer temperature, picked from `noise_sweep`.

    Bars: the fit (mean zero) next to what it can recover, (r - mean r) / temperature.
    Summary: {"temperature", "agreement", "fit_error", "fit_gap"} where agreement is the fraction
    of comparisons won by the truly better reply, fit_error the largest |fit * T - (r - mean r)|
    (the error on the true reward scale) and fit_gap the fitted r_safe - r_risky (items 0 and 1).
    """
    k = int(np.argmin(np.abs(sweep["temperatures"] - temperature)))
    t = float(sweep["temperatures"][k])
    fit, target = sweep["fits"][k], sweep["targets"][k]
    truth = np.asarray(true_rewards, float) - np.mean(true_rewards)
    x = np.arange(len(fit))
    fig, ax = _fig(7.6, 3.7, bottom=0.85, top=0.55)
    ax.bar(x - 0.2, target, 0.4, color=REF_COLOR, label="planted (r - mean r) / T")
    ax.bar(x + 0.2, fit, 0.4, color=OPT_COLOR, label="fitted")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, _short(labels))
    top = 1.1 * max(np.abs(sweep["fits"]).max(), np.abs(sweep["targets"]).max())
    ax.set(ylabel="reward (mean zero)", ylim=(-top, top))  # one scale for every T
    ax.set_title(f"reviewer temperature T = {t:.3g}", fontsize=TITLE, loc="left")
    _legend_above(ax, ncol=2)
    summary = {"temperature": t, "agreement": float(sweep["agreement"][k]),
               "fit_error": float(np.max(np.abs(fit * t - truth))),
               "fit_gap": float(fit[0] - fit[1])}
    return fig, summary


# ---------------------------------------------------------------- 03 The tether

def tether(beta: float, reference: str, worlds: dict, frontiers: dict):
    """Reference vs optimal policy (Eq. 4) for one prompt, and the reward/KL frontier.

    Args:
        beta: tether strength.
        reference: key into `worlds` / `frontiers` (e.g. "good", "poor").
        worlds: {reference: Bandit with one prompt}.
        frontiers: {reference: `bandit.frontier(...)` dict}, precomputed.
    Summary: {"beta", "reference", "expected_reward", "kl", "p_safe", "reference_p_safe"}.
    """
    world = worlds[reference]
    ref, r = world.reference_probs[0], world.rewards[0]
    pi = _bandit.optimal_policy(ref, r, beta)
    er, kl = float(_bandit.expected_reward(pi, r)), float(_bandit.kl(pi, ref))
    fig, (ax, ax2) = _fig(10.0, 3.9, ncols=2, left=0.9, bottom=0.85, top=0.55, wspace=0.32)
    x = np.arange(len(pi))
    ax.bar(x - 0.2, ref, 0.4, color=REF_COLOR, label="reference")
    ax.bar(x + 0.2, pi, 0.4, color=OPT_COLOR, label=f"optimum, beta = {beta:.3g}")
    ax.set_xticks(x, _short(world.labels))
    ax.set(ylim=(0, 1), yticks=[0, 0.5, 1], ylabel="probability")
    _legend_above(ax, ncol=2)
    f = frontiers[reference]
    ax2.plot(f["kl"], f["reward"], color=OPT_COLOR, lw=2)
    ax2.plot([kl], [er], "o", color=RISKY, ms=9)
    ax2.set(xlabel="KL(pi || pi_ref)", ylabel="E[reward]")
    ax2.set_title("reward/KL frontier (red: this beta)", fontsize=TITLE)
    return fig, {"beta": float(beta), "reference": reference, "expected_reward": er, "kl": kl,
                 "p_safe": float(pi[0]), "reference_p_safe": float(ref[0])}


# ---------------------------------------------------------------- 04 The DPO loss

def dpo_run(beta: float, runs: dict, world):
    """A precomputed tabular DPO run at `beta` (the nearest in `runs`) against the exact optimum.

    Left: probability of each reply of prompt 0 over training, exact optimum dashed.
    Right: the trained policy next to the exact optimum (outline) and the reference, prompt 0.
    Summary: {"beta", "tv", "kl", "p_safe", "optimum_p_safe"}; tv is the largest total
    variation distance between trained and exact policy over prompts.
    """
    betas = np.array(sorted(runs))
    b = float(betas[np.argmin(np.abs(np.log(betas) - np.log(beta)))])
    run = runs[b]
    opt = _bandit.optimal_policy(world.reference_probs, world.rewards, b)
    fig, (ax, ax2) = _fig(10.0, 3.9, ncols=2, left=0.9, bottom=0.9, top=0.55, wspace=0.25)
    # Colour = reply (the tick labels on the right say which); the exact optimum is dashed on
    # the left and an outline on the right, so no colour means two things.
    colors = [SAFE, RISKY, "tab:orange", "tab:purple", "tab:brown"]
    for k, label in enumerate(world.labels):
        ax.plot(run.steps, run.probs[:, 0, k], color=colors[k % 5], lw=2)
        ax.axhline(opt[0, k], color=colors[k % 5], ls="--", lw=1.2)
    ax.set(xlabel="step", ylabel="pi(y | x)", ylim=(0, 1), yticks=[0, 0.5, 1])
    ax.set_title(f"training, beta = {b:.3g} (dashed: exact)", fontsize=TITLE, loc="left")
    x = np.arange(len(world.labels))
    ax2.bar(x - 0.27, world.reference_probs[0], 0.27, color=REF_COLOR, label="reference")
    ax2.bar(x, run.policy[0], 0.27, color=OPT_COLOR, label="trained")
    ax2.bar(x + 0.27, opt[0], 0.27, fill=False, edgecolor="black", lw=1.5, label="exact")
    ax2.set_xticks(x, _short(world.labels))
    for tick, color in zip(ax2.get_xticklabels(), colors):
        tick.set_color(color)  # the reply's colour in the left panel: no legend needed
    ax2.set(ylim=(0, 1), yticks=[0, 0.5, 1])
    _legend_above(ax2, ncol=3)
    return fig, {"beta": b, "tv": _bandit.total_variation(run.policy, opt),
                 "kl": float(np.mean(_bandit.kl(run.policy, world.reference_probs))),
                 "p_safe": float(run.policy[0, 0]), "optimum_p_safe": float(opt[0, 0])}


# ---------------------------------------------------------------- 01 preference pairs

_PAIR_STYLE = """<style>
.dpolab-pair {font-family: sans-serif; font-size: 14px; max-width: 980px}
.dpolab-pair-prompt {background: #f3f3f3; padding: 8px 10px; border-radius: 6px; margin-bottom: 8px}
.dpolab-pair-cols {display: flex; gap: 10px}
.dpolab-pair-cols > div {flex: 1; padding: 8px 10px; border-radius: 6px; border: 2px solid}
.dpolab-pair-chosen {border-color: #2ca02c !important; background: #f2fbf2}
.dpolab-pair-rejected {border-color: #d62728 !important; background: #fdf2f2}
.dpolab-pair-tag {font-size: 12px; color: #555; margin-bottom: 4px}
</style>"""


def pair_html(row: dict) -> str:
    """One preference pair as HTML: the prompt on top, chosen and rejected side by side.

    `row` needs `prompt`, `chosen`, `rejected`, `category`, `rejected_flavor`; a true `flipped`
    (from `scenarios.biased_pairs` / `noisy_pairs`) is shown as a warning tag. Text is escaped.
    """
    import html

    e = html.escape
    flipped = " &middot; <b>flipped by the reviewer</b>" if row.get("flipped") else ""
    return (f'{_PAIR_STYLE}<div class="dpolab-pair">'
            f'<div class="dpolab-pair-prompt"><div class="dpolab-pair-tag">patient &middot; '
            f'{e(row["category"])}{flipped}</div>{e(row["prompt"])}</div>'
            f'<div class="dpolab-pair-cols">'
            f'<div class="dpolab-pair-chosen"><div class="dpolab-pair-tag">chosen</div>'
            f'{e(row["chosen"])}</div>'
            f'<div class="dpolab-pair-rejected"><div class="dpolab-pair-tag">rejected &middot; '
            f'{e(row["rejected_flavor"])}</div>{e(row["rejected"])}</div></div></div>')


def pair_view(rows: list[dict], index: int):
    """The `index`-th of `rows` as HTML (index clamped into range), for the pair browser.

    Returns:
        (IPython HTML, summary) with summary {"pair": "i of n", "category", "rejected_flavor"},
        or {"pair": "0 of 0"} and a note when `rows` is empty.
    """
    from IPython.display import HTML

    if not rows:
        return HTML("<p><i>No pair has this category and flavour.</i></p>"), {"pair": "0 of 0"}
    i = max(0, min(int(index), len(rows) - 1))
    row = rows[i]
    return HTML(pair_html(row)), {"pair": f"{i + 1} of {len(rows)}", "category": row["category"],
                                  "rejected_flavor": row["rejected_flavor"]}


def pair_counts(rows: list[dict], column: str = "rejected_flavor"):
    """Stacked bars: pairs per category, split by `column` (default the rejected flavour).

    Summary: {"pairs": total, "categories": number of categories, plus one count per value}.
    """
    categories = list(dict.fromkeys(r["category"] for r in rows))
    values = list(dict.fromkeys(r[column] for r in rows))
    counts = {v: [sum(1 for r in rows if r["category"] == c and r[column] == v) for c in categories]
              for v in values}
    fig, ax = _fig(10.0, 4.2, right=2.6, bottom=1.15)
    x = np.arange(len(categories))
    bottom = np.zeros(len(categories))
    for v in values:  # a flavour has the colour it has in every audit chart of the series
        ax.bar(x, counts[v], bottom=bottom, label=v, color=LABEL_COLORS.get(v),
               edgecolor="white", lw=0.5)
        bottom += counts[v]
    ax.set_xticks(x, categories, rotation=30, ha="right", rotation_mode="anchor")
    ax.set_ylabel("pairs")
    ax.set_title(f"pairs per category, by {column}", fontsize=TITLE)
    _legend_right(ax)
    summary = {"pairs": len(rows), "categories": len(categories)}
    summary.update({v: int(sum(counts[v])) for v in values})
    return fig, summary


# ---------------------------------------------------------------- 08 The hidden reward

def reward_ranking(prompt: str, table: dict):
    """Candidate replies to one new prompt, ranked by the implicit reward, beside the explicit one.

    Args:
        prompt: key into `table`.
        table: {prompt: {"labels": [...], "implicit": [...], "explicit": [...]}}, precomputed
            (implicit = beta log pi / pi_ref, explicit = the Bradley-Terry reward model's score).
    Summary: {"prompt", "top_implicit", "top_explicit", "spearman"}: the best candidate under
    each reward and the rank correlation of the two rewards over the candidates.
    """
    from scipy.stats import spearmanr

    row = table[prompt]
    labels = list(row["labels"])
    imp, exp = np.asarray(row["implicit"], float), np.asarray(row["explicit"], float)
    order = np.argsort(-imp)                          # best implicit reward on top
    y = np.arange(len(labels))[::-1]
    fig, (ax, ax2) = _fig(10.0, 1.3 + 0.5 * len(labels), ncols=2, left=1.9, bottom=0.5,
                          top=0.5, wspace=0.12)
    colors = [SAFE if labels[k] == "safe" else RISKY for k in order]  # green: the safe reply
    ax.barh(y, imp[order], color=colors)
    ax.set_yticks(y, [labels[k] for k in order])
    ax.axvline(0, color="black", lw=0.8)
    ax.set_title("implicit: beta log pi/pi_ref", fontsize=TITLE)
    ax2.barh(y, exp[order], color=colors)
    ax2.set_yticks(y, [])
    ax2.axvline(0, color="black", lw=0.8)
    ax2.set_title("explicit: reward model", fontsize=TITLE)
    rho = float(spearmanr(imp, exp).statistic)
    return fig, {"prompt": prompt[:40] + ("..." if len(prompt) > 40 else ""),
                 "top_implicit": labels[int(np.argmax(imp))],
                 "top_explicit": labels[int(np.argmax(exp))], "spearman": rho}


# ---------------------------------------------------------------- 09 Deployment trade-offs

def reviewer_bias(bias: float, grid: dict, categories=("medication", "emergency", "pressure")):
    """What the policy does after training on pairs from a reviewer with bias `bias`.

    Args:
        bias: fraction of eligible pairs where the confident-but-unsafe reply won (the nearest
            level in `grid` is shown).
        grid: {level: {"safe/<category>": rate, ..., "accuracy": held-out accuracy}}, precomputed.
    Left: safe rate per category at this level (outline: the unbiased level). Right: the safe
    rates and held-out accuracy against bias, this level marked.
    Summary: {"bias", "safe/<category>" for each category, "accuracy"}.
    """
    levels = np.array(sorted(grid, key=float), dtype=float)
    k = float(levels[np.argmin(np.abs(levels - bias))])
    row = grid[_key(grid, k)]
    base = grid[_key(grid, float(levels[0]))]
    fig, (ax, ax2) = _fig(10.0, 4.0, ncols=2, left=0.9, right=2.3, bottom=0.7, top=0.55)
    x = np.arange(len(categories))
    ax.bar(x, [row[f"safe/{c}"] for c in categories], 0.6, color=SAFE, label=f"bias {k:.2f}")
    ax.bar(x, [base[f"safe/{c}"] for c in categories], 0.6, fill=False, edgecolor="black",
           lw=1.5, label=f"bias {levels[0]:.2f}")
    ax.set_xticks(x, categories)
    ax.set(ylim=(0, 1.05), yticks=[0, 0.5, 1], ylabel="safe replies")
    _legend_above(ax, ncol=2)
    # Right: one colour per category (none of them green, which means "this level" on the left).
    palette = ("tab:blue", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")
    for i, c in enumerate(categories):
        ax2.plot(levels, [grid[_key(grid, l)][f"safe/{c}"] for l in levels], "o-",
                 color=palette[i % len(palette)], label=c, ms=5, lw=2)
    ax2.plot(levels, [grid[_key(grid, l)]["accuracy"] for l in levels], "s--", color=REF_COLOR,
             label="held-out accuracy", ms=5, lw=2)
    ax2.axvline(k, color=RISKY, lw=1.5)
    ax2.set(xlabel="reviewer bias", ylim=(0, 1.05), yticks=[0, 0.5, 1])
    ax2.set_title("every level (red: this one)", fontsize=TITLE)
    _legend_right(ax2)
    summary = {"bias": k, **{f"safe/{c}": float(row[f"safe/{c}"]) for c in categories},
               "accuracy": float(row["accuracy"])}
    return fig, summary


def _key(grid: dict, level: float):
    """The key of `grid` equal to `level` (keys may be floats or their JSON strings)."""
    return next(g for g in grid if abs(float(g) - level) < 1e-9)


# ---------------------------------------------------------------- 05 The reference model

LABEL_COLORS = {"safe": SAFE, "unsafe_advice": RISKY, "missed_emergency": "darkred",
                "over_refusal": "tab:orange", "rule_bending": "tab:purple",
                "made_up_facts": "tab:brown", "off_topic": "tab:cyan", "other": "lightgray",
                "broken": "black"}


def audit_rates(rates: dict, title: str = "", ax=None):
    """Stacked bars: per category, the share of replies the judge gave each label.

    Args:
        rates: `evaluate.audit(...)["rates"]`, {category: {label: fraction}}.
    Summary: {category: safe rate}.
    """
    fig = None
    if ax is None:
        fig, ax = _fig(10.0, 4.0, right=2.4, bottom=1.1)
    else:  # an axes of the caller's figure: give it the same text sizes
        ax.tick_params(labelsize=TICK)
        ax.yaxis.label.set_size(LABEL)
    cats = list(rates)
    bottom = np.zeros(len(cats))
    for label, color in LABEL_COLORS.items():
        h = np.array([rates[c].get(label, 0.0) for c in cats])
        if h.any():
            ax.bar(cats, h, bottom=bottom, color=color, label=label, width=0.7)
        bottom += h
    inches = ax.get_position().width * ax.figure.get_figwidth()
    ax.set_xticks(range(len(cats)), [c.replace("_", " ") for c in cats],
                  rotation=30 if inches / len(cats) > 0.6 else 45, ha="right",
                  rotation_mode="anchor")  # steeper on narrow axes, so the names do not collide
    ax.set(ylim=(0, 1), yticks=[0, 0.5, 1])
    spec = ax.get_subplotspec()
    if spec is None or spec.is_first_col():  # one y label per row of panels
        ax.set_ylabel("share of replies")
    _legend_right(ax)
    ax.set_title(title, fontsize=TITLE)
    return fig if fig is not None else ax.figure, {c: float(rates[c]["safe"]) for c in cats}


def token_logps(tokens: list, title: str = ""):
    """One bar per completion token: its log-prob under the model (EOS last).

    Args:
        tokens: [(token_text, logp), ...] as `logprobs.response_logps(..., per_token=True)` gives.
    Summary: {"tokens", "logp" (the sum: the sequence log-prob), "lowest" (the least likely
    token), "eos_logp"}.
    """
    text = [t for t, _ in tokens]
    v = np.array([lp for _, lp in tokens], dtype=float)
    fig, ax = _fig(10.0, 4.4, left=0.9, right=1.9, bottom=1.2, top=0.45)
    colors = [RISKY if x < -2.0 else (OPT_COLOR if x < -0.5 else SAFE) for x in v]
    ax.bar(np.arange(len(v)), v, color=colors, width=0.8)
    _legend_right(ax, handles=[Patch(color=SAFE, label="above -0.5"),
                               Patch(color=OPT_COLOR, label="-2 to -0.5"),
                               Patch(color=RISKY, label="below -2")], title="log p")
    labels = [repr(t)[1:-1] if t != "<|endoftext|>" else "EOS" for t in text]
    ax.set_xticks([])
    # token labels as plain texts under the axis: a third cheaper to draw than one tick per token
    under = transforms.blended_transform_factory(ax.transData, ax.transAxes)
    for x, label in enumerate(labels):
        ax.text(x, -0.02, label, rotation=90, fontsize=10, ha="center", va="top", transform=under)
    ax.set(ylabel="log p(token)", xlim=(-0.7, len(v) - 0.3))
    ax.axhline(0, color="black", lw=0.8)
    ax.set_title(title, fontsize=LABEL, loc="left")  # a reply's text: long, so a size smaller
    k = int(np.argmin(v))
    return fig, {"tokens": len(v), "logp": float(v.sum()), "lowest": labels[k],
                 "eos_logp": float(v[-1])}


# ---------------------------------------------------------------- 06 The direct update

def trailing_mean(values, k: int = 8) -> np.ndarray:
    """Mean of each value and the up to k - 1 before it: no zero padding, so the curve does not
    sag at either end (the first points average fewer values)."""
    v = np.asarray(values, dtype=float)
    c = np.cumsum(np.insert(v, 0, 0.0))
    n = np.minimum(np.arange(1, len(v) + 1), k)
    return (c[1:] - c[np.arange(1, len(v) + 1) - n]) / n


def dpo_history(history: list, total_steps: int | None = None):
    """The DPO training metrics (TRL's names) against the step, in four panels (two by two).

    Args:
        history: `train_dpo`'s list of per-step dicts (possibly a partial one, while training).
        total_steps: fixes the x range, so a live plot does not rescale as it grows.
    Summary: {"step", "loss", "rewards/chosen", "rewards/rejected", "rewards/margins",
    "rewards/accuracies", "eval_rewards/accuracies"}: the last values logged.
    """
    steps = [h for h in history if "loss" in h]
    evals = [h for h in history if "eval_rewards/accuracies" in h]
    x = np.array([h["step"] for h in steps])
    fig, axes = _fig(10.0, 5.6, ncols=2, nrows=2, left=0.8, right=1.9, bottom=0.65, top=0.45,
                     wspace=0.3, hspace=0.45)
    axes = axes.ravel()  # loss, rewards | margins, accuracies

    def smooth(key, k=8):
        return trailing_mean([h[key] for h in steps], k)

    if len(x):
        axes[0].plot(x, smooth("loss"), color=OPT_COLOR, lw=2)
        axes[1].plot(x, smooth("rewards/chosen"), color=SAFE, lw=2, label="chosen")
        axes[1].plot(x, smooth("rewards/rejected"), color=RISKY, lw=2, label="rejected")
        axes[2].plot(x, smooth("rewards/margins"), color="black", lw=2)
        axes[3].plot(x, smooth("rewards/accuracies"), color="tab:purple", lw=2,
                     label="train batch")
    if evals:
        axes[3].plot([h["step"] for h in evals], [h["eval_rewards/accuracies"] for h in evals],
                     "o-", color="tab:orange", ms=6, lw=2, label="held-out")
    axes[0].axhline(np.log(2), color=REF_COLOR, ls="--", lw=1.2)
    axes[1].axhline(0, color=REF_COLOR, lw=0.8)
    for ax, title in zip(axes, ("loss (dashed: log 2)", "rewards/chosen, /rejected",
                                "rewards/margins", "rewards/accuracies")):
        ax.set_title(title, fontsize=TITLE)
        if total_steps:
            ax.set_xlim(0, total_steps)
    for ax in axes[2:]:
        ax.set_xlabel("step")
    axes[0].set_ylim(bottom=0)
    axes[3].set_ylim(-0.02, 1.02)
    axes[3].set_yticks([0, 0.5, 1])
    if len(x):  # legends beside the right-hand panels, clear of the curves
        _legend_right(axes[1])
        _legend_right(axes[3])
    last = steps[-1] if steps else {}
    summary = {"step": int(last.get("step", 0))}
    for k in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins",
              "rewards/accuracies"):
        summary[k] = float(last[k]) if k in last else float("nan")
    summary["eval_rewards/accuracies"] = (float(evals[-1]["eval_rewards/accuracies"])
                                          if evals else float("nan"))
    return fig, summary


# ---------------------------------------------------------------- 07 Beta and the tether

def beta_tether(beta: float, rows: list):
    """One policy of a beta sweep on the safe-rate/KL frontier, with Wilson 95% error bars.

    Args:
        beta: a value in the sweep (the row whose "beta" equals it is marked in red).
        rows: one dict per model, the reference first with beta None: {"beta", "kl",
            "safe": rate dict, "broken": rate dict}, where a rate dict is
            `evaluate.rate(...)`'s {"rate", "lo", "hi", "k", "n"}.
    Summary: {"beta", "kl", "safe", "broken"} of the marked row (rates as floats).
    """
    row = next(r for r in rows[1:] if r["beta"] == beta)
    kl = np.array([r["kl"] for r in rows])

    def bars(key):  # values and asymmetric Wilson error bars
        y = np.array([r[key]["rate"] for r in rows])
        return y, np.array([y - [r[key]["lo"] for r in rows], [r[key]["hi"] for r in rows] - y])

    # One panel, no legend, few texts: the drawing is most of a slider update (goal < 100 ms).
    fig, ax = _fig(7.4, 3.8, left=0.9, right=0.2, bottom=0.75, top=0.45)
    y, err = bars("broken")
    ax.errorbar(kl, y, err, fmt="s", color="tab:brown", ms=5, capsize=3)
    ax.plot([row["kl"]], [row["broken"]["rate"]], "s", color=RISKY, ms=12, zorder=1)
    y, err = bars("safe")
    ax.errorbar(kl, y, err, fmt="o", color="black", ms=5, capsize=3)
    ax.plot([row["kl"]], [row["safe"]["rate"]], "o", color=RISKY, ms=12, zorder=1)
    for r, k, top in zip(rows, kl, y + err[1]):  # each point named by its beta, above its bar
        ax.text(k, top + 0.03, "ref" if r["beta"] is None else f"{r['beta']:g}", ha="center",
                fontsize=TICK)
    ax.set(xlabel="KL to the reference (held out, nats)", ylabel="share of replies",
           ylim=(0, 1), yticks=[0, 0.5, 1], xlim=(-0.05 * kl.max(), 1.08 * kl.max()))
    ax.set_title(f"safe (black) and broken (brown); red: beta = {beta:g}", fontsize=TITLE)
    summary = {"beta": float(beta), "kl": float(row["kl"]), "safe": float(row["safe"]["rate"]),
               "broken": float(row["broken"]["rate"])}
    return fig, summary
