"""Thin ipywidgets wrappers around the pure plotting functions in `dpolab.plots`.

One pattern for every slider in the series: a function `fn(**values) -> (figure, summary)` is
wrapped by `panel`, which shows the controls, the figure (a PNG inside an Output widget, so
executed notebooks and HTML handouts keep the image) and a one-line readout of the summary. A
callback only calls `fn`: it never trains. `fn` may draw a new figure per call, or be an
updater from `plots`, `modelplots` or `rewardplots` that returns the same figure with its
artists moved; then only those are drawn again (`_png`), which keeps a change under 100 ms.
Every widget carries a stable CSS class, so kernel tests (`find`) and browser tests can locate it.

What an Output widget shows is always set from the kernel (`show`, `capture`), never by
`with out: display(...)`; see `show` for why.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import io
import itertools
import sys
import time
import weakref
from typing import Any, Callable, Iterator

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import PIL.Image
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from IPython import get_ipython
from IPython.core.formatters import DisplayFormatter
from IPython.display import Image


# What a readout calls a summary's keys (the summary keeps its keys: tests read those); a key not
# listed here is shown with "_" as a space and "/" as ", ".
READOUT_NAMES = {"p_safe": "p(safe)", "p_risky": "p(risky)", "fit_error": "fit error",
                 "fit_gap": "fitted gap", "expected_reward": "E[reward]", "kl": "KL",
                 "reference_p_safe": "reference p(safe)", "optimum_p_safe": "optimum p(safe)",
                 "tv": "TV to the optimum", "logp": "log p(reply)", "eos_logp": "log p(EOS)",
                 "lowest": "least likely token", "rejected_flavor": "rejected reply",
                 "chosen_flavor": "chosen reply (flipped)",
                 "top_implicit": "top (implicit)", "top_explicit": "top (explicit)",
                 "spearman": "rank correlation", "accuracy": "held-out accuracy",
                 "kl_coef": "KL coefficient"}


def _fmt(value: Any) -> str:
    """A readout value for people: a float to 3 significant digits, never in e-notation
    (-2.48e-05 reads -0.0000248), a label with its underscores as spaces."""
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:.0f}"
        return np.format_float_positional(value, precision=3, fractional=False, trim="-")
    return str(value).replace("_", " ")


def readout_name(key: str) -> str:
    return READOUT_NAMES.get(key, key.replace("_", " ").replace("/", ", "))


def readout_html(summary: dict) -> str:
    """The readout line a panel shows for `summary` (browser tests recompute it to compare)."""
    return " &nbsp;|&nbsp; ".join(f"<b>{readout_name(k)}</b> = {_fmt(v)}" for k, v in summary.items())


def readout_text(summary: dict) -> str:
    """The readout line as plain text, for `print`: "gap = 2 | p(safe) = 0.881"."""
    return " | ".join(f"{readout_name(k)} = {_fmt(v)}" for k, v in summary.items())


class Panel(W.VBox):
    """Controls + figure + readout around `fn(**values) -> (matplotlib Figure | None, dict)`.

    `fn` may also return any other displayable object (e.g. `IPython.display.HTML`) in place of
    the figure; it is shown in the same output area.

    With `prerender=True` (selection controls only: Dropdown, ToggleButtons, SelectionSlider)
    the figure of every combination of options is drawn when the panel is built, and a change
    shows the stored picture: for a figure too costly to draw within 100 ms. `fn` still runs on
    every change, so `summary` and `figure` are always the current ones.

    Attributes:
        summary: the dict the last call returned (what kernel tests assert on).
        figure: the last Figure (its artists hold the plotted data; an updater's figure is the
            same object every time), or None.
        pictures: {tuple of control values: PNG}, the prerendered pictures (else empty).
        last_ms: wall time of the last update in milliseconds.
    """

    def __init__(self, fn: Callable[..., tuple[Any, dict]], css_class: str,
                 prerender: bool = False, **controls: W.Widget):
        if prerender and not all(hasattr(c, "_options_values") for c in controls.values()):
            raise TypeError("prerender needs selection controls (Dropdown, SelectionSlider, ...)")
        self.fn = fn
        self.css_class = css_class
        self.controls = controls
        self.out = W.Output()
        self.out.add_class(f"{css_class}-plot")
        self.readout = W.HTML()
        self.readout.add_class(f"{css_class}-readout")
        self.summary: dict = {}
        self.figure = None
        self.pictures: dict[tuple, Image] = {}
        self.last_ms = 0.0
        for name, control in controls.items():
            control.add_class(f"{css_class}-{name.replace('_', '-')}")
            control.observe(self._on_change, names="value")
        super().__init__([W.HBox(list(controls.values())), self.readout, self.out])
        self.add_class(css_class)
        _PANELS.append(weakref.ref(self))
        if prerender:
            self._prerender()
        _freeze_in_kernel()
        self.update()

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, _change=None) -> None:
        self.update()

    def _prerender(self) -> None:
        """Draw the picture for every combination of the controls' options, once."""
        choices = [c._options_values for c in self.controls.values()]  # values, not labels
        for combination in itertools.product(*choices):
            fig, _ = self.fn(**dict(zip(self.controls, combination)))
            self.pictures[combination] = _png(fig)

    def update(self) -> dict:
        """Recompute from the current control values; returns the new summary."""
        t0 = time.perf_counter()
        values = self.values()
        fig, summary = self.fn(**values)
        self.summary = summary
        self.readout.value = readout_html(summary)
        if fig is not None:  # a matplotlib Figure, or anything IPython can display (e.g. HTML)
            shown = self.pictures.get(tuple(values.values())) if self.pictures else None
            if shown is None:
                shown = _png(fig) if isinstance(fig, Figure) else fig
            elif isinstance(fig, Figure):
                plt.close(fig)  # as _png does: a pyplot figure is not kept open
            show(self.out, shown)
        self.figure = fig
        self.last_ms = (time.perf_counter() - t0) * 1e3
        return summary


def show(out: W.Output, *objs: Any) -> None:
    """Make `out` show `objs` (figures, images, HTML, widgets...), replacing what it showed, in
    one state update sent from the kernel; `show(out)` empties it.

    Why not `with out: display(obj)`: that asks the front end to route the cell's outputs into
    the widget, and a headless front end (nbclient, so Voila and the notebook tests) answers each
    routed output with a message on the shell channel, sent while it waits on that same channel
    for the cell's reply. jupyter_client sends it through a plain (not asyncio) view of the
    socket, and that send can consume the wake-up of a reply that has just arrived: the executor
    then waits for a reply that is already there, until its timeout (nbclient) or forever (a
    Voila page stuck at "Executing"). Measured: 12 of 125 runs of notebook 01 stalled so before,
    none of 100 after (`benchmarks/hangs.py`). Setting `outputs` from the kernel involves no
    front end at all.
    """
    out.outputs = tuple(_display_data(*_format(obj)) for obj in objs)


def _format(obj: Any) -> tuple[dict, dict]:
    """(data, metadata) of `obj` as `display(obj)` would publish them."""
    shell = get_ipython()
    formatter = shell.display_formatter if shell is not None else DisplayFormatter()
    return formatter.format(obj)


def _display_data(data: dict, metadata: dict | None) -> dict:
    """An nbformat display_data output; binary data (PNG bytes) base64-encoded, as JSON needs."""
    data = {k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v
            for k, v in data.items()}
    return {"output_type": "display_data", "data": data, "metadata": metadata or {}}


class _Sink(io.TextIOBase):
    """Collects what `capture` routes: display() calls (as an IPython display publisher) and
    print() (as sys.stdout), in order, into `out.outputs`."""

    is_publishing = False  # the attribute IPython reads off a display publisher

    def set_parent(self, parent) -> None:  # a display publisher's; nothing to route here
        pass

    def __init__(self, out: W.Output):
        self.out, self.outputs, self.clear_pending = out, [], False
        self.shown: dict[str, dict] = {}   # display_id -> the output display() showed under it

    def _add(self, output: dict) -> None:
        if self.clear_pending:
            self.outputs, self.shown, self.clear_pending = [], {}, False
        self.outputs.append(output)

    def publish(self, data, metadata=None, *args, transient=None, update=False, **kwargs) -> None:
        """IPython's display_pub: display() adds an output; `DisplayHandle.update` (a progress
        bar's last line, `dpolab.progress`) replaces the one shown under its display_id."""
        display_id = (transient or {}).get("display_id")
        if update:
            if display_id in self.shown:
                self.shown[display_id].update(_display_data(data, metadata))
                self.flush()
            return
        self._add(_display_data(data, metadata))
        if display_id is not None:
            self.shown[display_id] = self.outputs[-1]
        self.flush()

    def clear_output(self, wait: bool = False) -> None:
        self.clear_pending = True
        if not wait:
            self.outputs, self.shown, self.clear_pending = [], {}, False
            self.flush()

    def write(self, text: str) -> int:  # sys.stdout
        last = self.outputs[-1] if self.outputs and not self.clear_pending else None
        if last is not None and last["output_type"] == "stream":
            last["text"] += text
        else:
            self._add({"output_type": "stream", "name": "stdout", "text": text})
        return len(text)

    def flush(self) -> None:
        self.out.outputs = tuple(dict(o) for o in self.outputs)


@contextlib.contextmanager
def capture(out: W.Output) -> Iterator[None]:
    """Inside the block, display() and print() go to `out`, in order, replacing what it showed
    (the kernel-side counterpart of `with out:`; see `show` for why)."""
    sink, shell = _Sink(out), get_ipython()
    saved_pub, saved_stdout = getattr(shell, "display_pub", None), sys.stdout
    if shell is not None:
        shell.display_pub = sink
    sys.stdout = sink
    try:
        yield
    finally:
        sys.stdout = saved_stdout
        if shell is not None:
            shell.display_pub = saved_pub
        sink.flush()


def _freeze_in_kernel() -> None:
    """In a live kernel, where sliders move: everything alive now (models, data, the notebook's
    state) leaves the cyclic garbage collector's view. A full collection over it took ~300 ms and
    now and then landed inside a slider update; reference counting frees those objects as before.
    Elsewhere (tests, scripts) the process's collector is left as it is."""
    shell = get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        gc.freeze()


# Figures a panel has shown: whole, not cropped to their texts as a figure displayed in a cell is
# (so `dpolab.figcheck` checks that their texts stay inside them).
SHOWN_WHOLE: weakref.WeakSet = weakref.WeakSet()


def _png(fig: Figure) -> Image:
    """Render `fig` to PNG, the way a panel shows it.

    The artists an updater marks animated (`dpolab.plots.animate`) are drawn over a cached
    picture of the rest of the figure (matplotlib's blitting): its ticks and texts are drawn once,
    and again only when something in them changed, which marks the figure stale. No tight-bbox
    pass (it lays text out twice); zlib level 1 (a third faster than the default level, for a
    tenth more bytes).
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    SHOWN_WHOLE.add(fig)
    size = canvas.get_width_height(physical=True)
    moving = [(ax, artist) for ax in fig.axes
              for artist in sorted((a for a in ax.get_children() if a.get_animated()),
                                   key=lambda a: a.get_zorder())]
    cached = _BACKGROUNDS.get(fig)
    if moving and cached is not None and cached[0] == size and not fig.stale:
        canvas.restore_region(cached[1])
    else:
        canvas.draw()  # everything but the animated artists
        if moving:
            _BACKGROUNDS[fig] = (size, canvas.copy_from_bbox(fig.bbox))
    for ax, artist in moving:
        ax.draw_artist(artist)
    # Drawing an animated legend places its parts, which marks the figure stale although nothing
    # in the cached picture changed; a change made before the next call marks it again.
    fig.stale = False
    plt.close(fig)
    pixels = PIL.Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    pixels.save(buffer, format="png", compress_level=1)
    return Image(data=buffer.getvalue(), format="png")


_BACKGROUNDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # figure -> (size, pixels)
_PANELS: list[weakref.ref] = []  # every Panel built in this process, in order


def panels() -> list[Panel]:
    """The panels built in this kernel and not closed, in the order they were built."""
    alive = [p() for p in _PANELS]
    return [p for p in alive if p is not None and p.comm is not None]


def panel(fn: Callable[..., tuple[Any, dict]], css_class: str, prerender: bool = False,
          **controls: W.Widget) -> Panel:
    """Wrap `fn` with `controls` (keyword = argument name of fn) under CSS class `css_class`;
    `prerender`: draw every combination of the controls' options now (see `Panel`)."""
    return Panel(fn, css_class, prerender, **controls)


def find(css_class: str) -> W.Widget:
    """The one live widget carrying `css_class` (kernel-level tests move sliders with it)."""
    from ipywidgets.widgets.widget import _instances

    hits = [w for w in list(_instances.values()) if css_class in getattr(w, "_dom_classes", ())]
    if len(hits) != 1:
        raise LookupError(f"expected one widget with CSS class {css_class!r}, found {len(hits)}")
    return hits[0]


def pair_browser(splits: dict[str, list[dict]], css_class: str = "dpolab-pair-browser") -> Panel:
    """Browse preference pairs: dropdowns for split, category and rejected flavour, an index slider.

    Shows the prompt with chosen and rejected side by side (`dpolab.cards.pair_view`). The
    slider's range follows the filter. Controls get CSS classes `<css>-split`, `<css>-category`,
    `<css>-flavor`, `<css>-index`.

    Args:
        splits: name -> rows (dicts with prompt, chosen, rejected, category, rejected_flavor).
    """
    from dpolab import cards, clinic

    def pick(split, category, flavor):
        return [r for r in splits[split] if category in ("all", r["category"])
                and flavor in ("all", r["rejected_flavor"])]

    def show(split, category, flavor, index):  # the slider counts from 1, like the readout
        return cards.pair_view(pick(split, category, flavor), index - 1)

    def options(field, order):  # the clinic's order (routine first), not the shuffled data's
        seen = {r[field] for rows in splits.values() for r in rows}
        return ["all"] + sorted(seen, key=lambda v: (order.index(v) if v in order else len(order), v))

    first = next(iter(splits))
    categories, flavors = options("category", clinic.CATEGORIES), options("rejected_flavor", clinic.FLAVORS)
    narrow = W.Layout(width="220px")
    index = W.IntSlider(value=1, min=1, max=max(len(splits[first]), 1), description="pair",
                        continuous_update=False, layout=W.Layout(width="320px"))
    p = Panel(show, css_class,
              split=W.Dropdown(options=list(splits), value=first, description="split", layout=narrow),
              category=W.Dropdown(options=categories, value="all", description="category",
                                  layout=narrow),
              flavor=W.Dropdown(options=flavors, value="all", description="flavour", layout=narrow),
              index=index)

    def refit(_change=None):
        v = p.values()
        index.max = max(len(pick(v["split"], v["category"], v["flavor"])), 1)

    for name in ("split", "category", "flavor"):
        p.controls[name].observe(refit, names="value")
    p.children[0].layout.flex_flow = "row wrap"
    return p
