"""Preference pairs as HTML cards: the patient's message on top, chosen and rejected side by side
(notebook 01 and the pair browser, `widgets.pair_browser`). Text is escaped; colours are
`plots.SAFE` and `plots.RISKY`.
"""

from __future__ import annotations

import html

_PAIR_STYLE = """<style>
.dpolab-pair {font-family: sans-serif; font-size: 14px; max-width: 980px}
.dpolab-pair-prompt {background: #f3f3f3; padding: 8px 10px; border-radius: 6px; margin-bottom: 8px}
.dpolab-pair-cols {display: flex; gap: 10px}
.dpolab-pair-cols > div {flex: 1; padding: 8px 10px; border-radius: 6px; border: 2px solid}
.dpolab-pair-chosen {border-color: #009E73 !important; background: #f0faf6}
.dpolab-pair-rejected {border-color: #D55E00 !important; background: #fdf4ee}
.dpolab-pair-tag {font-size: 12px; color: #555; margin-bottom: 4px}
</style>"""


def pair_html(row: dict) -> str:
    """One preference pair as HTML: the prompt on top, chosen and rejected side by side.

    `row` needs `prompt`, `chosen`, `rejected`, `category`, `rejected_flavor`; a true `flipped`
    (from `scenarios.biased_pairs` / `noisy_pairs`) is shown as a warning tag, and the flavour
    tag then goes with the reply it names, which now sits in `chosen`. Text is escaped.
    """
    e = html.escape
    flipped = row.get("flipped")
    warning = " &middot; <b>flipped by the reviewer</b>" if flipped else ""
    flavor = f' &middot; {e(row["rejected_flavor"])}'
    return (f'{_PAIR_STYLE}<div class="dpolab-pair">'
            f'<div class="dpolab-pair-prompt"><div class="dpolab-pair-tag">patient &middot; '
            f'{e(row["category"])}{warning}</div>{e(row["prompt"])}</div>'
            f'<div class="dpolab-pair-cols">'
            f'<div class="dpolab-pair-chosen"><div class="dpolab-pair-tag">chosen'
            f'{flavor if flipped else ""}</div>{e(row["chosen"])}</div>'
            f'<div class="dpolab-pair-rejected"><div class="dpolab-pair-tag">rejected'
            f'{"" if flipped else flavor}</div>{e(row["rejected"])}</div></div></div>')


def pair_view(rows: list[dict], index: int):
    """The `index`-th of `rows` as HTML (index clamped into range), for the pair browser.

    Returns:
        (IPython HTML, summary) with summary {"pair": "i of n", "category", "rejected_flavor"}
        (for a `flipped` pair "chosen_flavor": the flavoured reply now sits in the chosen box), or
        {"pair": "0 of 0"} and a note when `rows` is empty.
    """
    from IPython.display import HTML

    if not rows:
        return HTML("<p><i>No pair has this category and flavour.</i></p>"), {"pair": "0 of 0"}
    i = max(0, min(int(index), len(rows) - 1))
    row = rows[i]
    side = "chosen_flavor" if row.get("flipped") else "rejected_flavor"
    return HTML(pair_html(row)), {"pair": f"{i + 1} of {len(rows)}", "category": row["category"],
                                  side: row["rejected_flavor"]}
