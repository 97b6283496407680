"""The reviewer's desk: label pairs with buttons or keys, and a button that trains on the labels.

Two widgets in the series' conventions (`dpolab.widgets`): stable CSS classes so kernel and
browser tests can find them, and callbacks that never train behind a slider. `Labeller` shows a
patient message and two replies, A and B, and saves every answer at once (`labels.LabelStore`);
the keys 1, 2 and 0 answer "A is better", "B is better" and "skip" while the pointer is over the
card (`ipyevents`, which works in JupyterLab and in Voila alike). `Trainer` trains DPO on the
labels given so far when its button is pressed, with a progress bar, and says plainly when there
are too few.

CSS classes: `dpolab-labeller` (root), `-counter`, `-card`, `-a`, `-b`, `-skip`, `-status`;
`dpolab-train-labels` (root), `-source`, `-button`, `-progress`, `-message`, `-results`.
"""

from __future__ import annotations

import html
import time
from typing import Callable

import ipywidgets as W

from dpolab import labelpolicy, labels, widgets
from dpolab.jsonl import DataError

KEYS = {"1": "A", "2": "B", "0": "skip", "u": "undo"}
HINT = ("keys: 1 = A is better, 2 = B is better, 0 = skip, u = undo the last answer, with the mouse "
        "pointer over this box")

_STYLE = """<style>
.dpolab-card-body {font-family: sans-serif; font-size: 17px; max-width: 1100px}
.dpolab-card-prompt {background: #f3f3f3; padding: 10px 12px; border-radius: 6px; margin-bottom: 10px}
.dpolab-card-cols {display: flex; gap: 12px}
.dpolab-card-cols > div {flex: 1; padding: 10px 12px; border-radius: 6px; border: 2px solid #888}
.dpolab-card-tag {font-size: 14px; color: #444; margin-bottom: 4px}
.dpolab-labeller-counter {font-size: 18px}
</style>"""


def card_html(pair: dict | None, total: int) -> str:
    """The card for one pair (message on top, A and B side by side), escaped; or the end."""
    if pair is None:
        return (f'{_STYLE}<div class="dpolab-card-body"><div class="dpolab-card-prompt">'
                f"All {total} pairs answered. Train on your labels below.</div></div>")
    e = html.escape
    a, b = labels.shown(pair)
    return (f'{_STYLE}<div class="dpolab-card-body"><div class="dpolab-card-prompt">'
            f'<div class="dpolab-card-tag">patient</div>{e(pair["prompt"])}</div>'
            f'<div class="dpolab-card-cols"><div><div class="dpolab-card-tag">A</div>{e(a)}</div>'
            f'<div><div class="dpolab-card-tag">B</div>{e(b)}</div></div></div>')


class Labeller(W.VBox):
    """Label the queue's pairs one by one; each answer is appended to the label file at once.

    Attributes:
        store: the `labels.LabelStore` (its file, the queue, the answers so far).
        last_ms: wall time of the last answer's callback in milliseconds (save + redraw).
    """

    def __init__(self, store: labels.LabelStore, css_class: str = "dpolab-labeller"):
        self.store, self.css_class, self.last_ms = store, css_class, 0.0
        self._last_stamp = None   # the last key press answered (its DOM event's timeStamp)
        self.counter = W.HTML()
        self.card = W.HTML()
        self.status = W.HTML()
        self.buttons = {"A": W.Button(description="A is better  [1]"),
                        "B": W.Button(description="B is better  [2]"),
                        "skip": W.Button(description="skip  [0]")}
        for name, button in self.buttons.items():
            button.add_class(f"{css_class}-{name.lower()}")
            button.layout = W.Layout(width="200px", height="44px")
            button.style.font_size = "16px"
            button.on_click(lambda _b, name=name: self.press(name))
        self.undo_button = W.Button(description="undo last  [u]",
                                    layout=W.Layout(width="160px", height="44px"))
        self.undo_button.style.font_size = "16px"
        self.undo_button.add_class(f"{css_class}-undo")
        self.undo_button.on_click(lambda _b: self.undo())
        for w, part in ((self.counter, "counter"), (self.card, "card"), (self.status, "status")):
            w.add_class(f"{css_class}-{part}")
        super().__init__([self.counter, self.card, W.HBox([*self.buttons.values(), self.undo_button]),
                          self.status])
        self.add_class(css_class)
        self._keys = _key_events(self, self._on_key)
        self.status.value = HINT if self._keys is not None else ""
        if store.repaired:  # a crash cut the last answer short: say what was done about it
            self.status.value = f"{html.escape(store.repaired)} &middot; {self.status.value}"
        self.redraw()

    @property
    def answered(self) -> int:
        return len(self.store.done)

    def redraw(self) -> None:
        total = len(self.store.queue_pairs)
        pair = self.store.next_pair()
        self.counter.value = f"<b>{self.answered} of {total}</b> answered"
        self.card.value = card_html(pair, total)
        for button in self.buttons.values():
            button.disabled = pair is None
        self.undo_button.disabled = not self.store.done

    def press(self, button: str) -> dict | None:
        """Answer the current pair as `button` ("A", "B" or "skip"); returns the saved row."""
        t0 = time.perf_counter()
        shown = self.store.next_pair()
        if self.store.catch_up() and self.store.next_pair() is not shown:
            self.redraw()   # another window on this file answered (or took back) answers: they stand
            self.status.value = ("another window saved answers to this file (kept); here is the pair "
                                 f"to answer now &middot; {HINT}")
            return None
        if shown is None:
            return None
        row = self.store.answer(shown, labels.answer_for(shown, button))
        self.redraw()
        self.last_ms = (time.perf_counter() - t0) * 1e3
        self.status.value = (f"saved to <code>{html.escape(str(self.store.path))}</code> "
                             f"({self.last_ms:.0f} ms) &middot; {HINT}")
        return row

    def undo(self) -> dict | None:
        """Take back the last answer (`LabelStore.undo`); its pair is shown again. Returns the row
        taken back, or None when there was none."""
        row = self.store.undo()
        self.redraw()
        self.status.value = (f"took back the answer to {html.escape(row['pair_id'])}; it is shown again "
                             f"(an undo line was added to the file) &middot; {HINT}" if row is not None
                             else f"nothing to undo &middot; {HINT}")
        return row

    def _on_key(self, event: dict) -> None:
        """One pair per key press. A key held down (`repeat`) answers nothing more, and the same
        press delivered twice (same `timeStamp`: Voila hands each keydown to ipyevents twice)
        is answered once."""
        if event.get("type") != "keydown" or event.get("key") not in KEYS or event.get("repeat"):
            return
        stamp = event.get("timeStamp")
        if stamp is not None and stamp == self._last_stamp:
            return
        self._last_stamp = stamp
        if KEYS[event["key"]] == "undo":
            self.undo()
        else:
            self.press(KEYS[event["key"]])


def _key_events(widget: W.DOMWidget, handler: Callable[[dict], None]):
    """Key presses over `widget` (while the pointer is over it) go to `handler`; None without
    ipyevents (the buttons still work)."""
    try:
        from ipyevents import Event
    except ImportError:  # pragma: no cover
        return None
    events = Event(source=widget, watched_events=["keydown"], prevent_default_action=True)
    events.on_dom_event(handler)
    return events


class Trainer(W.VBox):
    """A button that trains DPO on the labels of the chosen source, with a progress bar.

    Args:
        sources: {label shown in the dropdown: function returning label rows}.
        value: the source selected at first.
        on_trained: called as `on_trained(model, rows, source)` after training (or loading the
            cached policy); what it displays goes into the results area.

    Attributes: `model`, `rows` and `source` of the last run; `message` (an HTML widget).
    """

    def __init__(self, sources: dict[str, Callable[[], list[dict]]], value: str,
                 on_trained: Callable | None = None, css_class: str = "dpolab-train-labels"):
        self.sources, self.on_trained = sources, on_trained
        self.model, self.rows, self.source = None, None, None
        self.choice = W.Dropdown(options=list(sources), value=value, description="labels of",
                                 layout=W.Layout(width="340px"))
        self.button = W.Button(description="Train on these labels", button_style="primary",
                               layout=W.Layout(width="240px", height="40px"))
        self.progress = W.Output()
        self.message = W.HTML()
        self.results = W.Output()
        for w, part in ((self.choice, "source"), (self.button, "button"),
                        (self.progress, "progress"), (self.message, "message"),
                        (self.results, "results")):
            w.add_class(f"{css_class}-{part}")
        self.button.on_click(lambda _b: self.train())
        super().__init__([W.HBox([self.choice, self.button]), self.progress, self.message,
                          self.results])
        self.add_class(css_class)

    def train(self):
        """Train on the selected source's labels (or load that run from the cache); returns the
        model, or None with a message when there are fewer than `labelpolicy.MIN_LABELS`."""
        source = self.choice.value
        try:
            rows = [r for r in self.sources[source]() if not r.get("skip")]
        except DataError as err:   # e.g. a bad file in the class folder: say so where one looks
            self.message.value = f"<b>could not read the labels of {html.escape(source)}:</b> {html.escape(str(err))}"
            return None
        if len(rows) < labelpolicy.MIN_LABELS:
            self.message.value = (f"<b>{len(rows)} label(s)</b> from {html.escape(source)} so far: "
                                  f"label at least {labelpolicy.MIN_LABELS} pairs (skips do not "
                                  f"count), then press the button again.")
            return None
        cached = labelpolicy.is_cached(rows)
        self.button.disabled = True
        self.message.value = (f"{'loading' if cached else 'training on'} {len(rows)} labels from "
                              f"{html.escape(source)} ({labelpolicy.steps(len(rows))} DPO steps)...")
        t0 = time.perf_counter()
        try:
            with widgets.capture(self.progress):  # the training's progress bar
                self.model = labelpolicy.policy(rows, progress=not cached)
            widgets.show(self.progress)
        except Exception as err:   # shown here, not only in the log a button's callback writes to
            self.message.value = (f"<b>training on {len(rows)} labels from {html.escape(source)} "
                                  f"failed:</b> {html.escape(f'{type(err).__name__}: {err}')}")
            raise
        finally:
            self.button.disabled = False
        self.rows, self.source = rows, source
        self.message.value = (f"{'loaded' if cached else 'trained'}: {len(rows)} labels from "
                              f"{html.escape(source)}, {labelpolicy.steps(len(rows))} DPO steps, "
                              f"{time.perf_counter() - t0:.1f} s")
        if self.on_trained is not None:
            with widgets.capture(self.results):
                self.on_trained(self.model, rows, source)
        return self.model


def labeller(path=None, pairs: list[dict] | None = None) -> Labeller:
    """The labelling widget over `pairs` (default `labels.queue()`), saving to `path` (default
    `labels.label_path("you")`); it resumes where that file stopped."""
    pairs = pairs if pairs is not None else labels.queue()
    return Labeller(labels.LabelStore(path or labels.label_path("you"), pairs))

