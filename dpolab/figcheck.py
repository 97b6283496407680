"""The projector check: a figure's texts must not overlap one another or run off its edge, and
no legend may sit on the data.

A room reads a figure only if every tick label, axis label, title, legend entry and annotation
stands clear of the others and inside the picture, and sees the data only where no legend covers
it. `text_problems` lays a figure out as a full render would (animated artists included) and
lists what breaks those rules; the notebook tests run it on every figure a notebook draws
(tests/nbrun.py), and tests/test_plots.py on every state the slider figures visit.
"""

from __future__ import annotations

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.text import Text

SLACK = 1.0  # pixels two boxes may share, or a box may pass the edge by (anti-aliasing)
STEP = 2.0   # pixels between the points at which a drawn line is checked against a legend


def drawn_texts(fig: Figure) -> list[tuple[str, np.ndarray, object]]:
    """(text, corners (4, 2) in pixels, axis-aligned bbox) of every text a full render of `fig`
    draws: titles, axis labels, the tick labels of ticks in view, legend entries, annotations. A
    rotated text's corners are those of its own (rotated) box, not of the box around it."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.savefig(io.BytesIO(), format="png", dpi=fig.dpi)  # lays out every artist, animated too
    renderer = canvas.get_renderer()
    ticks, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            every = axis.get_major_ticks() + axis.get_minor_ticks()
            ticks |= {id(t.label1) for t in every} | {id(t.label2) for t in every}
            drawn += [label for t in axis._update_ticks() for label in (t.label1, t.label2)]
    out = []
    for t in [t for t in fig.findobj(Text) if id(t) not in ticks] + drawn:
        if not (t.get_visible() and t.get_text().strip()):
            continue
        box = t.get_window_extent(renderer)
        clip = t.get_clip_box() if t.get_clip_on() else None
        if clip is not None and not box.overlaps(clip):  # clipped out of view
            continue
        out.append((t.get_text(), _corners(t, box, renderer), box))
    return out


def _corners(t: Text, box, renderer) -> np.ndarray:
    """The four corners of `t`'s own box: `box` itself unless `t` is turned by an angle that is
    not a multiple of 90 degrees, then the rectangle whose turn fills `box`."""
    theta = math.radians(t.get_rotation() % 180)
    c, s = abs(math.cos(theta)), abs(math.sin(theta))
    if c < 1e-6 or s < 1e-6:
        return np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    lines = t.get_text().count("\n") + 1
    _, h, _ = renderer.get_text_width_height_descent("Ay", t.get_fontproperties(), ismath=False)
    h *= lines * (t.get_linespacing() if lines > 1 else 1.0)
    w = max((box.width - h * s) / c, 0.0)  # box.width = w cos + h sin
    u = np.array([math.cos(theta), math.sin(theta)])           # along the text
    v = np.array([-math.sin(theta), math.cos(theta)])          # across it
    centre = np.array([(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])
    return np.array([centre + a * w / 2 * u + b * h / 2 * v for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))])


def _overlap(p: np.ndarray, q: np.ndarray) -> float:
    """How deep two convex quadrilaterals overlap, in pixels (<= 0: apart); separating axes."""
    depth = math.inf
    for poly in (p, q):
        for i in range(4):
            edge = poly[(i + 1) % 4] - poly[i]
            axis = np.array([-edge[1], edge[0]]) / (np.hypot(*edge) or 1.0)
            a, b = p @ axis, q @ axis
            depth = min(depth, min(a.max(), b.max()) - max(a.min(), b.min()))
    return depth


def text_problems(fig: Figure, edges: bool = True) -> list[str]:
    """What a room could not read in `fig`: texts that overlap another and, with `edges`, texts
    that leave the figure (a figure displayed in a notebook is cropped to its texts, so only a
    picture shown whole, as a panel shows its figure, needs them inside)."""
    texts, edge, problems = drawn_texts(fig), fig.bbox, []
    for label, _, b in texts if edges else ():
        if b.x0 < edge.x0 - SLACK or b.x1 > edge.x1 + SLACK or b.y0 < edge.y0 - SLACK or \
                b.y1 > edge.y1 + SLACK:
            problems.append(f"{label!r} runs off the figure")
    for i, (a, corners_a, _) in enumerate(texts):
        for b, corners_b, _ in texts[i + 1:]:
            if _overlap(corners_a, corners_b) > SLACK:
                problems.append(f"{a!r} overlaps {b!r}")
    return problems + legend_problems(fig)


def legend_problems(fig: Figure) -> list[str]:
    """Legends that cover data: a legend (an axes' or the figure's) whose box holds a point of a
    drawn line (its markers, or its path every `STEP` pixels), a scatter point, an error bar or
    part of a bar, where the axes show it. Lines placed in axes coordinates (axhline, axvline)
    are guides, not data, and may pass under a legend. Call after a render (`drawn_texts` does)."""
    renderer = fig.canvas.get_renderer()
    legends = [(ax.get_legend(), [ax]) for ax in fig.axes if ax.get_legend() is not None]
    legends += [(leg, fig.axes) for leg in fig.legends]
    problems = []
    for leg, axes in legends:
        if not leg.get_visible():
            continue
        box = leg.get_window_extent(renderer).padded(-SLACK)
        name = next((t.get_text() for t in leg.get_texts() if t.get_text()), "legend")
        for ax in axes:
            if ax.get_visible() and _covers(box, ax, renderer):
                problems.append(f"legend {name!r} covers data of the axes titled {ax.get_title()!r}"
                                if ax.get_title() else f"legend {name!r} covers data")
    return problems


def _covers(box, ax, renderer) -> bool:
    """Whether `box` (display pixels) holds data that `ax` draws inside its own area."""
    view = ax.bbox
    def inside(xy):
        xy = xy[np.isfinite(xy).all(1)]
        seen = xy[(xy[:, 0] >= view.x0) & (xy[:, 0] <= view.x1) & (xy[:, 1] >= view.y0) & (xy[:, 1] <= view.y1)]
        return bool(((seen[:, 0] > box.x0) & (seen[:, 0] < box.x1) &
                     (seen[:, 1] > box.y0) & (seen[:, 1] < box.y1)).any())
    for line in ax.lines:
        if not line.get_visible() or line.get_transform() != ax.transData or len(line.get_xydata()) == 0:
            continue
        xy = ax.transData.transform(line.get_xydata())
        if line.get_linestyle() not in ("None", "none", "", " ") and len(xy) > 1:
            xy = _along(xy)
        if inside(xy):
            return True
    for c in ax.collections:
        if not c.get_visible():
            continue
        if isinstance(c, PathCollection) and c.get_offset_transform() == ax.transData:
            if len(c.get_offsets()) and inside(ax.transData.transform(np.asarray(c.get_offsets()))):
                return True
        elif isinstance(c, LineCollection) and c.get_transform() == ax.transData:
            if any(len(seg) and inside(_along(ax.transData.transform(np.asarray(seg)))) for seg in c.get_segments()):
                return True
    for patch in ax.patches:  # bars; spans in axes coordinates (axvspan) are guides
        if not patch.get_visible() or patch.get_data_transform() != ax.transData:
            continue
        b = patch.get_window_extent(renderer)
        x0, y0 = max(b.x0, box.x0, view.x0), max(b.y0, box.y0, view.y0)
        x1, y1 = min(b.x1, box.x1, view.x1), min(b.y1, box.y1, view.y1)
        if x1 - x0 > SLACK and y1 - y0 > SLACK:
            return True
    return False


def _along(xy: np.ndarray) -> np.ndarray:
    """Points every `STEP` pixels or closer along the polyline through `xy` (N, 2)."""
    xy = xy[np.isfinite(xy).all(1)]
    if len(xy) < 2:
        return xy
    seg = np.diff(xy, axis=0)
    n = np.maximum(1, np.ceil(np.hypot(seg[:, 0], seg[:, 1]) / STEP)).astype(int)
    t = np.concatenate([np.arange(k) / k for k in n])
    start = np.repeat(xy[:-1], n, axis=0)
    return np.vstack([start + t[:, None] * np.repeat(seg, n, axis=0), xy[-1:]])
