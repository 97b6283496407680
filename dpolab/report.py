"""Audits as a reader sees them: rates with Wilson 95% intervals, in tables and error bars.

An audit (`evaluate.audit`, cached per model by `artifacts.audit`) labels sampled replies; its
`summary` holds rates as dicts `{"rate", "lo", "hi", "k", "n"}`. These helpers only format and
draw them: nothing here samples or trains. `describe` names a cached model in words (its kind and
what differs from the defaults), for the cache's messages.

    rows = report.audit_rows({"reference": ref_audit, "DPO": pol_audit})
    display(report.format_rows(rows))              # an HTML table; print() gives the text
    fig, summary = report.safe_rate_bars({"reference": ref_audit, "DPO": pol_audit})
"""

from __future__ import annotations

import html
import json
import textwrap
from dataclasses import asdict
from pathlib import Path

import numpy as np
from matplotlib import rcParams
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from dpolab.evaluate import SAFETY_CATEGORIES, gap
from dpolab.train import DPOConfig

HEADLINES = (("safe/safety", "safe (4 safety categories)"), ("safe/worst", "safe (worst of 4)"),
             ("fluent", "fluent"), ("over_refusal/routine", "refuses routine"),
             ("off_topic", "off topic"), ("broken", "broken"))
# One colour per model; no green or orange, which mean safe and risky replies across the series.
COLORS = ("tab:gray", "tab:blue", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def cell(r: dict, digits: int = 2) -> str:
    """'0.62 [0.57, 0.67]': a rate and its Wilson 95% interval (more `digits` where two intervals
    part by less than 0.01 and would seem to touch)."""
    return f"{r['rate']:.{digits}f} [{r['lo']:.{digits}f}, {r['hi']:.{digits}f}]"


def gap_words(a: dict, b: dict, digits: int = 3) -> str:
    """'apart by 0.013' or 'overlap by 0.010': how two rates' intervals lie (`evaluate.gap`)."""
    g = gap(a, b)
    return f"apart by {g:.{digits}f}" if g > 0 else f"overlap by {abs(g):.{digits}f}"


def audit_rows(audits: dict, keys=HEADLINES) -> list[dict]:
    """One row per model: its headline rates as `cell` strings, and n per rate."""
    rows = []
    for name, a in audits.items():
        s = a["summary"]
        row = {"model": name}
        for key, title in keys:
            row[title] = cell(s[key])
        row["n (safety)"] = s["safe/safety"]["n"]
        rows.append(row)
    return rows


def category_rows(audits: dict, categories=SAFETY_CATEGORIES) -> list[dict]:
    """One row per category: each model's safe rate with its interval."""
    return [{"category": c, **{name: cell(a["summary"][f"safe/{c}"]) for name, a in audits.items()}}
            for c in categories]


class Table(str):
    """A table of string rows that is also its plain text: print it, or compare it, as a string;
    `display` it (or leave it last in a cell) and a notebook draws an HTML table, which scrolls
    sideways in a narrow window where wide text would wrap and lose its columns. A cell of more
    than `LONG_CELL` characters wraps within its column instead (a sentence, not a figure)."""

    def __new__(cls, rows: list[dict]):
        cols = list(rows[0]) if rows else []
        cells = [cols] + [[str(r[c]) for c in cols] for r in rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(cols))]
        text = "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells)
        table = super().__new__(cls, text if rows else "")
        table.cols, table.cells = cols, cells[1:]
        return table

    def __repr__(self) -> str:   # the plain-text form in a notebook's text/plain output
        return str(self)

    def _repr_html_(self) -> str:
        def row(tag, values):
            return "<tr>" + "".join(f"<{tag}{_LONG * (len(v) > LONG_CELL)}>{html.escape(v)}</{tag}>"
                                    for v in values) + "</tr>"
        body = "".join(row("td", r) for r in self.cells)
        return (f"{_TABLE_STYLE}<div class=\"dpolab-table\"><table><thead>{row('th', self.cols)}"
                f"</thead><tbody>{body}</tbody></table></div>")


LONG_CELL = 40   # characters: a longer cell of a `Table` wraps in its column on a projector
_LONG = ' class="long"'

_TABLE_STYLE = """<style>
.dpolab-table {overflow-x: auto}
.dpolab-table table {font-size: 14px; border-collapse: collapse}
.dpolab-table th {text-align: left; vertical-align: bottom; padding: 2px 10px; max-width: 11em;
                  border-bottom: 1px solid #888}
.dpolab-table td {text-align: left; white-space: nowrap; padding: 2px 10px}
.dpolab-table td.long {white-space: normal; min-width: 14em; max-width: 28em; vertical-align: top}
.dpolab-table tbody tr:nth-child(odd) {background: #f4f4f4}
</style>"""


def format_rows(rows: list[dict]) -> Table:
    """The rows (dicts with the same keys) as a `Table`: plain text, drawn as HTML in a notebook."""
    return Table(rows)


def wrapped(head: str, text: str, width: int = 100, indent: str = "    ") -> str:
    """`head` + `text` wrapped at `width` characters, later lines indented; the text's own line
    breaks kept (a long reply printed under a prompt stays readable in a narrow column)."""
    first, *rest = text.split("\n")
    return "\n".join([textwrap.fill(head + first, width, subsequent_indent=indent)]
                     + [textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
                        for line in rest])


def safe_rate_bars(audits: dict, categories=SAFETY_CATEGORIES, title: str = "", colors: dict | None = None):
    """Grouped bars: per safety category (and pooled), each model's safe rate with 95% error bars.

    Each group's tick label states n, the replies behind each bar: one number where every model
    has the same, else each model's, left to right as in the legend ("160 / 20", two to a line);
    rates without an "n" show the names alone. `colors` maps a model's name to its colour (so a
    model keeps the colour other figures give it); models not in it take `COLORS` in order.
    Summary: {model: {category or "pooled": rate}}.
    """
    groups = list(categories) + ["pooled"]
    rates = {name: [a["summary"][f"safe/{c}"] if c != "pooled" else a["summary"]["safe/safety"]
                    for c in groups] for name, a in audits.items()}
    # text sizes: matplotlib's, which a notebook sets to the series' (plt.rcParams.update(plots.RC))
    tick, label = (FontProperties(size=rcParams[k]).get_size_in_points()
                   for k in ("xtick.labelsize", "axes.labelsize"))
    width, left, right, top, tall = 10.0, 0.8, 2.0, 0.45, 2.6  # inches; tall: the axes' height
    labels, xlabel = [g.replace("_", " ") for g in groups], ""
    if all("n" in r for rs in rates.values() for r in rs):  # rates without n: names only
        ns = [[rs[j]["n"] for rs in rates.values()] for j in range(len(groups))]  # (groups, models)
        same = all(len(set(n)) == 1 for n in ns)
        labels = [f"{g}\nn = {n[0]}" if same else f"{g}\nn = " + " /\n".join(  # two numbers a line
                      " / ".join(map(str, n[i:i + 2])) for i in range(0, len(n), 2))
                  for g, n in zip(labels, ns)]
        xlabel = "n: replies per bar" + ("" if same else ", left to right (as in the legend)")
    lines = max(t.count("\n") + 1 for t in labels)
    bottom = 0.35 + lines * 1.2 * tick / 72 + (1.3 * label / 72 + 0.1 if xlabel else 0.0)
    height = top + tall + bottom
    fig = Figure(figsize=(width, height), dpi=100)
    ax = fig.subplots()
    fig.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                        top=1 - top / height)
    bar = 0.8 / len(audits)
    summary = {}
    for i, (name, rs) in enumerate(rates.items()):
        x = np.arange(len(groups)) + (i - (len(audits) - 1) / 2) * bar
        y = np.array([r["rate"] for r in rs])
        err = np.array([[r["rate"] - r["lo"] for r in rs], [r["hi"] - r["rate"] for r in rs]])
        color = (colors or {}).get(name, COLORS[i % len(COLORS)])
        ax.bar(x, y, bar * 0.95, yerr=err, capsize=3, color=color, label=name)
        summary[name] = dict(zip(groups, y.tolist()))
    ax.set_xticks(range(len(groups)), labels)
    ax.set_xlabel(xlabel)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share of replies safe")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.set_title(title or "safe replies, sampled at temperature 1 (95% intervals)")
    return fig, summary


_REPLIES_STYLE = """<style>
.dpolab-replies {font-family: sans-serif; font-size: 15px; max-width: 1000px}
.dpolab-replies-prompt {background: #f3f3f3; padding: 8px 10px; border-radius: 6px; margin-bottom: 8px}
.dpolab-replies-cols {display: flex; gap: 10px}
.dpolab-replies-cols > div {flex: 1; padding: 8px 10px; border-radius: 6px; border: 2px solid #999}
.dpolab-replies-safe {border-color: #009E73 !important; background: #f0faf6}
.dpolab-replies-tag {font-size: 13px; color: #444; margin-bottom: 4px}
</style>"""


def replies_html(prompt: str, category: str, replies: dict) -> str:
    """One patient message on top and several models' replies to it side by side, as HTML.

    Args:
        prompt, category: the patient's message and its audit category.
        replies: {column title: audit sample} where a sample has `reply` and `label` (the
            judge's); a `safe` reply gets a green frame. Text is escaped.
    """
    import html

    e = html.escape
    cols = "".join(
        f'<div class="{"dpolab-replies-safe" if s["label"] == "safe" else ""}">'
        f'<div class="dpolab-replies-tag">{e(title)} &middot; judge: <b>{e(s["label"])}</b></div>'
        f'{e(s["reply"])}</div>' for title, s in replies.items())
    return (f'{_REPLIES_STYLE}<div class="dpolab-replies"><div class="dpolab-replies-prompt">'
            f'<div class="dpolab-replies-tag">patient &middot; {e(category)}</div>{e(prompt)}</div>'
            f'<div class="dpolab-replies-cols">{cols}</div></div>')


def describe(model) -> str:
    """A cached model in words, for messages: its kind and what differs from the defaults, e.g.
    'policy (beta 0.01, rpo_alpha 0.0)', 'policy (pairs noisy:0.3, loss_type ipo)', 'reference'."""
    entry_json = json.loads((Path(model.name_or_path).parent / "_entry.json").read_text())
    return describe_entry(entry_json["name"], entry_json["config"])


def describe_entry(name: str, config: dict) -> str:
    """`describe` for a cache entry's name and config (built or not)."""
    base = asdict(DPOConfig())
    changed = [f"pairs {config['pairs']}"] if config.get("pairs", "train") != "train" else []
    changed += [f"{k} {v}" for k, v in config.get("dpo", {}).items() if base.get(k, v) != v]
    if "rl" in config:  # its kl_coef always (the run's name in notebook 11), the rest when changed
        from dpolab.rlhf import RLConfig  # here: rlhf imports artifacts, which imports this module
        rl = asdict(RLConfig())
        changed += [f"{k} {v}" for k, v in config["rl"].items() if k == "kl_coef" or rl.get(k, v) != v]
    ref = config if name == "reference" else config.get("reference")
    if isinstance(ref, dict) and ref.get("sft", {}).get("epochs") == 0:  # the GPT-2 as initialised
        changed.append("untrained" if ref is config else "untrained reference")
    return name + (f" ({', '.join(changed)})" if changed else "")
