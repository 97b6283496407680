"""Progress bars that leave one line behind.

In a terminal a bar is tqdm's, erased when done (`leave=False`). In a notebook it is tqdm's widget
while it runs, and when it closes the widget is replaced by one plain line, e.g. "DPO: 174 of 174
steps, 41 s". Without this, a notebook saved with its outputs keeps the bar's first picture,
"DPO:   0%|          | 0/174", which is what a viewer without widgets (a handout, a file viewer)
shows for every model the notebook trained.
"""

from __future__ import annotations

from tqdm.auto import tqdm
from tqdm.notebook import tqdm as notebook_tqdm


def summary(desc: str, n: int, total: int | None, elapsed: float) -> str:
    """The line a closed bar leaves: 'DPO: 174 of 174 steps, 41 s'."""
    of = f" of {total:,}" if total else ""
    return f"{desc}: {n:,}{of} steps, {elapsed:.0f} s"


def bar(iterable=None, *, total: int | None = None, desc: str = "", initial: int = 0,
        disable: bool = False):
    """A tqdm bar (`tqdm.auto`, `leave=False`); in a notebook its display becomes `summary` when it
    closes, however it closes (the end of a loop, `close()`, an error)."""
    in_notebook = issubclass(tqdm, notebook_tqdm)   # tqdm.auto picked the widget
    if disable or not in_notebook:
        return tqdm(iterable, total=total, desc=desc, initial=initial, disable=disable, leave=False)
    from IPython.display import display

    b = tqdm(iterable, total=total, desc=desc, initial=initial, leave=False, display=False)
    handle = display(b.container, display_id=True)
    b.displayed = True
    close = b.close

    def close_and_leave_a_line():
        nonlocal handle
        if not b.disable and handle is not None:
            line = summary(desc, b.n, b.total, b.format_dict["elapsed"])
            handle.update({"text/plain": line}, raw=True)
            handle = None
        close()

    b.close = close_and_leave_a_line
    return b
