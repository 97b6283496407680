"""How the model scores a reply, as figures (notebooks 05 and 08): its log-prob token by token,
and its implicit reward, beta log pi/pi_ref, beside the reward model's score over a prompt's
candidate replies. Values in, `(figure, summary dict)` out, on the style of `plots`; nothing here
trains or samples. Each figure sits behind a slider, so each has its `<name>_updater`, which
builds it once and then moves only what changes; `<name>` is that updater called once.
"""

from __future__ import annotations

import numpy as np
from matplotlib import transforms
from matplotlib.patches import Patch
from matplotlib.textpath import TextPath

from dpolab.plots import DPI, LABEL, RISKY, SAFE, TICK, TITLE, legend_right, new_figure


# ---------------------------------------------------------------- 05 The reference model

TOKEN_SHADES = ("#9ecae1", "#3182bd", "#08306b")  # log p above -0.5, -2 to -0.5, below -2


def _token_label(token: str) -> str:
    return repr(token)[1:-1] if token != "<|endoftext|>" else "EOS"


def token_logps_updater(replies=()):
    """Build `token_logps`'s figure once; returns draw(tokens, title="") -> (figure, summary).

    A change reuses the bars and the token labels (one of each per token of the longest reply
    drawn so far; those past this reply's end are hidden) and fits the axes to this reply, as a
    new figure would, so the whole figure is drawn again: it saves building it, not drawing it.
    `replies`: the token lists it will draw, when known. The margin under the axis is then as
    tall as their longest token label, set vertically (the figure keeps its size from one reply to
    the next); without them it fits labels of up to 14 characters.
    """
    width_px = (10.0 - 1.1 - 1.9) * DPI   # the axes' width: the figure's less its side margins

    def label_size(n_tokens: int) -> float:
        # token labels as large as the projector rule asks, smaller only where a long reply leaves
        # each less room than a line of text needs (about 0.6 pt per pixel of its slot)
        return min(TICK - 1, 0.6 * width_px / n_tokens)

    longest = max((TextPath((0, 0), _token_label(t), size=label_size(len(tokens))).get_extents().width
                   for tokens in replies for t, _ in tokens),
                  default=TextPath((0, 0), "x" * 14, size=TICK - 1).get_extents().width)  # pt
    bottom = longest / 72 + 0.25   # inches: the label, the gap above it and a little room below
    fig, ax = new_figure(10.0, 3.1 + bottom, left=1.1, right=1.9, bottom=bottom, top=0.45)
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
        labels = [_token_label(t) for t, _ in tokens]
        size = label_size(len(v))
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
    return token_logps_updater([tokens])(tokens, title)


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
    for a, title, xlabel in ((ax, r"implicit: $\beta \log \pi / \pi_\mathrm{ref}$",
                              "reward (green: the safe reply)"),
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
