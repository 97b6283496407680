"""Drive the sliders the way a learner does: headless Chromium in JupyterLab and in Voila.

JupyterLab: open a notebook, Run All Cells from the menu, move the first slider of a panel with
the keyboard (End), wait for the readout the *kernel* computes, then ask the same kernel (over
its websocket) what the panel should show for the slider's new value and compare readout and
plot image with what the page shows. Voila: every notebook that builds a `dpolab.widgets` panel
is rendered as an app; the same keyboard move must change the readout and the plot. Handouts:
`make html`'s build of one notebook, opened from disk with every network request refused, must
still show its slider and the figure (the widget manager is served from beside the page).
Notebook 12: label five pairs with the keys 1 and 2 in JupyterLab and in its Voila app, see the
counter move and the five rows in the label file, then reload and see the counter resume (what
the notebook reads from the cache is built first by a fixture, never inside a page).

Element screenshots are saved in test-artifacts/browser/. Without /usr/bin/chromium (or the
browser named by env DPOLAB_CHROMIUM) the tests skip locally and fail under CI (env CI set); so
does the handout test if npm cannot fetch the widget manager.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

import nbrun
import servers
from servers import NB_DIR, ROOT, TOKEN

SHOTS = ROOT / "test-artifacts" / "browser"
# The notebooks the JupyterLab test opens (by number): the tether on the exact toy and on the
# trained model. Voila covers every panel notebook; Lab, the slowest path, only these two.
LAB_NOTEBOOKS = ["03", "07"]
KERNEL_WAIT_MS = 120_000  # every model is cached first (fixture `cached`): no page trains

# ---------------------------------------------------------------- which notebooks, which panels

def _tool(name: str):
    """tools/<name>.py, imported once (`make demo` and `make html` run these modules)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before running it: a dataclass looks its module up there
        spec.loader.exec_module(module)
    return sys.modules[name]


panel_classes = _tool("demo").panel_classes  # which panels a notebook builds: one definition


def slider_notebooks() -> list[Path]:
    return [p for p in sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb")) if panel_classes(p)]


def lab_params():
    params = []
    for number in LAB_NOTEBOOKS:
        hits = sorted(NB_DIR.glob(f"{number}_*.ipynb"))
        if hits and panel_classes(hits[0]):
            params.append(pytest.param(hits[0], id=hits[0].stem))
        else:
            params.append(pytest.param(None, id=f"{number}-missing", marks=pytest.mark.skip(
                reason=f"notebook {number} with a dpolab.widgets panel does not exist yet")))
    return params


# ---------------------------------------------------------------- servers and browser

def _need_chromium() -> None:
    why = servers.chromium_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    _need_chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with servers.chromium(tmp_path_factory.mktemp("chromium-profile")) as ctx:
        yield ctx


@pytest.fixture(scope="module")
def lab(tmp_path_factory, browser):
    with servers.lab_server(tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(scope="module")
def voila(tmp_path_factory, browser):
    with servers.voila_server(tmp_path_factory.mktemp("voila")) as server:
        yield server


@pytest.fixture
def cached(request):
    """What the test's notebook reads from the cache, built before any page opens (by running
    the notebook once headless, unless the notebook tests already ran it in this session): a page
    never trains, and a test that runs alone from an empty cache needs nothing from another."""
    path = request.node.callspec.params["path"]
    if path is not None:
        nbrun.ensure_ran(path)
    return path


# ---------------------------------------------------------------- page helpers

def _text(locator) -> str:
    return " ".join(locator.inner_text().replace("\xa0", " ").split())


def _plot_src(page, css: str) -> str | None:
    img = page.locator(f".{css}-plot img")
    return img.first.get_attribute("src") if img.count() else None


def _first_slider(page, css: str):
    """The first slider of the panel `css` and its keyboard handle."""
    slider = page.locator(f".{css} .widget-slider").first
    return slider, slider.locator(".noUi-handle").first


def _press_end_and_wait(page, css: str, before: str) -> str:
    """Focus the slider handle, press End, and wait until the kernel's readout changes and settles.

    The handle reaching its end (aria-valuenow == aria-valuemax) is only the page's own state;
    the readout is what the kernel computed, so that is what we wait for.
    """
    slider, handle = _first_slider(page, css)
    handle.scroll_into_view_if_needed()
    handle.focus()
    handle.press("End")
    page.wait_for_function(
        "h => h.getAttribute('aria-valuenow') === h.getAttribute('aria-valuemax')",
        arg=handle.element_handle(), timeout=10_000)
    return _wait_for_new_readout(page, css, before)


def _select_last_and_wait(page, css: str, before: str) -> str:
    """For a panel without a slider: pick the first dropdown's last option, wait for the readout."""
    select = page.locator(f".{css} select").first
    select.scroll_into_view_if_needed()
    last = select.locator("option").count() - 1
    current = select.evaluate("el => el.selectedIndex")
    select.select_option(index=last if current != last else 0)
    return _wait_for_new_readout(page, css, before)


def _wait_for_new_readout(page, css: str, before: str) -> str:
    readout = page.locator(f".{css}-readout").first
    page.wait_for_function(
        """([sel, before]) => {
            const el = document.querySelector(sel);
            const t = el && el.innerText.replace(/\\u00a0/g, ' ').split(/\\s+/).join(' ').trim();
            return t && t !== before;
        }""", arg=[f".{css}-readout", before], timeout=60_000)
    # settle: the same text for 1 s (a rounding update may precede the final one)
    last, since = _text(readout), time.monotonic()
    while time.monotonic() - since < 1.0:
        page.wait_for_timeout(250)
        now = _text(readout)
        if now != last:
            last, since = now, time.monotonic()
    return last


def _panel_with_slider(page, roots: list[str], allow_dropdown: bool = False) -> str:
    """The first panel (in notebook order) that shows a slider; its first slider gets moved.

    With `allow_dropdown`, a notebook whose panels have no slider falls back to the first panel
    with a dropdown.
    """
    for css in roots:
        if page.locator(f".{css} .widget-slider .noUi-handle").count():
            return css
    if allow_dropdown:
        for css in roots:
            if page.locator(f".{css} select").count():
                return css
    raise AssertionError(f"none of the panels {roots} shows a slider")


def _slider_label(page, css: str) -> str:
    slider, _ = _first_slider(page, css)
    return _text(slider.locator(".widget-readout").first)


def _no_errors(page) -> None:
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] "
                          ":text('Traceback'), .jp-RenderedText[data-mime-type="
                          "'application/vnd.jupyter.error']")
    assert errors.count() == 0, _text(errors.first)


def _shot(locator, name: str) -> None:
    locator.screenshot(path=str(SHOTS / f"{name}.png"))


# ---------------------------------------------------------------- JupyterLab

KERNEL_PROBE = """
import base64 as _b64
import json as _json
from matplotlib.figure import Figure as _Figure
from dpolab import widgets as _w
_p = _w.find({css!r})
_slider = next(c for c in _p.controls.values() if type(c).__name__.endswith("Slider"))
_fig, _summary = _p.fn(**_p.values())
if hasattr(_slider, "options"):  # SelectionSlider: at its last option
    _at_end = _slider.index == len(_slider.options) - 1
else:  # FloatLogSlider's min/max are exponents
    _top = _slider.base ** _slider.max if hasattr(_slider, "base") else _slider.max
    _at_end = abs(_slider.value - _top) <= 1e-9 * max(1.0, abs(_top))
_is_figure = isinstance(_fig, _Figure)
# the PNG the panel would show for these values, rendered the way the panel renders it
_png = _b64.b64encode(_w._png(_fig).data).decode() if _is_figure else None
print(_json.dumps({{"value": str(_slider.value), "at_end": bool(_at_end),
                    "expected": _w.readout_html(_summary), "shown": _p.readout.value,
                    "is_figure": _is_figure, "png": _png}}))
"""


def _html_text(html: str) -> str:
    text = re.sub(r"<[^>]+>", "", html).replace("&nbsp;", " ").replace("&amp;", "&")
    return " ".join(text.split())


def _run_all_cells(page) -> None:
    """Run > Run All Cells once the kernel is idle and the command is enabled; then a cell starts."""
    page.get_by_text(re.compile(r"\| Idle$")).first.wait_for(timeout=90_000)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    item = page.locator(".lm-Menu-item:not(.lm-mod-disabled)",
                        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")))
    item.wait_for(timeout=30_000)
    item.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-InputArea-prompt')]"
        ".some(e => /\\[(\\*|\\d+)\\]/.test(e.innerText))", timeout=60_000)


@pytest.mark.browser
@pytest.mark.parametrize("path", lab_params())
def test_jupyterlab_slider_updates_kernel_readout_and_plot(browser, lab, cached, path):
    roots = panel_classes(path)
    css = roots[0]
    lab.clear_sessions()
    page = browser.new_page()
    t0 = time.monotonic()
    try:
        page.goto(f"{lab.base}/lab/tree/{path.name}?reset&token={TOKEN}", wait_until="domcontentloaded")
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=90_000)
        _run_all_cells(page)
        readout = page.locator(f".{css}-readout").first
        readout.wait_for(timeout=KERNEL_WAIT_MS)
        # all cells done: the last cell got an execution count and the kernel is idle
        page.wait_for_function(
            """() => {
                const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                return p.length && p.every(e => !e.innerText.includes('*'))
                    && /\\[\\d+\\]/.test(p[p.length - 1].innerText);
            }""", timeout=KERNEL_WAIT_MS)
        _no_errors(page)
        css = _panel_with_slider(page, roots)
        readout = page.locator(f".{css}-readout").first
        page.locator(f".{css}").first.scroll_into_view_if_needed()
        before, img_before = _text(readout), _plot_src(page, css)
        assert before, "the readout is empty after running all cells"
        _shot(page.locator(f".{css}").first, f"lab-{path.stem}-before")

        after = _press_end_and_wait(page, css, before)
        if img_before is not None:  # the plot arrives after the readout (a separate message)
            page.wait_for_function(
                "([sel, old]) => { const i = document.querySelector(sel);"
                " return i && i.getAttribute('src') !== old; }",
                arg=[f".{css}-plot img", img_before], timeout=30_000)
        # let the callback finish before asking the kernel anything
        page.get_by_text(re.compile(r"\| Idle$")).first.wait_for(timeout=60_000)
        kernel = lab.kernel_for(path.name)
        # the kernel saw the slider move to its end, and the page shows what the pure function
        # returns for that value (recomputed independently of the callback)
        probe = lab.execute(kernel, KERNEL_PROBE.format(css=css))
        assert probe["error"] is None, probe["error"]
        state = json.loads(probe["stdout"].strip().splitlines()[-1])
        assert state["at_end"], state
        assert state["shown"] == state["expected"], state
        page.wait_for_function(
            """([sel, want]) => {
                const el = document.querySelector(sel);
                return el && el.innerText.replace(/\\u00a0/g, ' ').split(/\\s+/).join(' ').trim() === want;
            }""", arg=[f".{css}-readout", _html_text(state["expected"])], timeout=30_000)
        after = _text(readout)
        assert after != before
        if img_before is not None:
            img_after = _plot_src(page, css)
            assert img_after and img_after != img_before
            if state["is_figure"]:
                want = base64.b64decode(state["png"])
                shown = None
                try:  # the plot arrives after the readout (separate widget message)
                    page.wait_for_function(
                        "([sel, want]) => { const i = document.querySelector(sel);"
                        " return i && i.getAttribute('src') === 'data:image/png;base64,' + want; }",
                        arg=[f".{css}-plot img", state["png"]], timeout=30_000)
                finally:  # on a timeout too: keep both pictures to look at
                    img_after = _plot_src(page, css)
                    shown = base64.b64decode(img_after.split(",", 1)[1])
                    if shown != want:
                        (SHOTS / f"lab-{path.stem}-plot-shown.png").write_bytes(shown)
                        (SHOTS / f"lab-{path.stem}-plot-expected.png").write_bytes(want)
                assert shown == want, "the plot on the page is not the figure for the new value"
        _shot(page.locator(f".{css}").first, f"lab-{path.stem}-after")
        print(f"{path.name}: {before!r} -> {after!r} ({time.monotonic() - t0:.1f} s)")
    except Exception:
        page.screenshot(path=str(SHOTS / f"lab-{path.stem}-failure.png"), full_page=True)
        raise
    finally:
        page.close()
        lab.clear_sessions()


# ---------------------------------------------------------------- Voila

VOILA_NOTEBOOKS = slider_notebooks()
# Voila runs the whole notebook before the page's widgets connect to the kernel, so the first
# readout appears only after the last cell (every model cached first: fixture `cached`).
VOILA_WAIT_S = int(os.environ.get("DPOLAB_VOILA_WAIT_S", 180))


def _wait_for_app(page, voila: servers.Voila, mark: int, css: str) -> float:
    """Poll until the panel's readout shows text; fail at once if Voila reports a cell error.
    No second load: a page that does not render fails (see `dpolab.widgets.show` for the one
    cause of such hangs found, and `benchmarks/hangs.py` for the count)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < VOILA_WAIT_S:
        if page.evaluate("sel => { const el = document.querySelector(sel);"
                         " return !!(el && el.innerText.trim()); }", f".{css}-readout"):
            return time.monotonic() - t0
        errors = voila.errors_since(mark)
        if errors:
            pytest.fail(f"Voila could not execute a cell:\n{errors}")
        page.wait_for_timeout(500)
    pytest.fail(f"no readout for .{css} after {VOILA_WAIT_S} s; Voila log:\n"
                f"{voila.log.read_text(errors='replace')[-3000:]}")


@pytest.mark.browser
@pytest.mark.skipif(not VOILA_NOTEBOOKS, reason="no notebook builds a dpolab.widgets panel yet")
@pytest.mark.parametrize("path", VOILA_NOTEBOOKS, ids=[p.stem for p in VOILA_NOTEBOOKS])
def test_voila_app_slider_changes_readout(browser, voila, cached, path):
    roots = panel_classes(path)
    css = roots[0]
    page = browser.new_page()
    t0, mark = time.monotonic(), voila.mark()
    try:
        url = f"{voila.url}/voila/render/{path.name}"
        page.goto(url, wait_until="commit", timeout=VOILA_WAIT_S * 1000)
        rendered = _wait_for_app(page, voila, mark, css)
        css = _panel_with_slider(page, roots, allow_dropdown=True)
        readout = page.locator(f".{css}-readout").first
        readout.wait_for(timeout=KERNEL_WAIT_MS)
        before, img_before = _text(readout), _plot_src(page, css)
        assert "Traceback" not in page.content(), "the app shows a traceback"
        # Voila hides code: no input cells on the page
        assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
        if page.locator(f".{css} .widget-slider .noUi-handle").count():
            label_before = _slider_label(page, css)
            after = _press_end_and_wait(page, css, before)
            assert _slider_label(page, css) != label_before
        else:  # a panel driven by a dropdown only
            after = _select_last_and_wait(page, css, before)
        assert after != before
        if img_before is not None:
            page.wait_for_function(
                "([sel, old]) => { const i = document.querySelector(sel);"
                " return i && i.getAttribute('src') !== old; }",
                arg=[f".{css}-plot img", img_before], timeout=30_000)
        if path.stem == "00_start_here":  # a closed form we can check on the page itself
            assert "gap = 4" in after and "p(safe) = 0.982" in after, after  # sigma(4) = 0.98201
        _shot(page.locator(f".{css}").first, f"voila-{path.stem}")
        print(f"{path.name}: app ready in {rendered:.1f} s; {before!r} -> {after!r} "
              f"({time.monotonic() - t0:.1f} s in all)")
    except BaseException:  # pytest.fail too: keep the screenshot
        page.screenshot(path=str(SHOTS / f"voila-{path.stem}-failure.png"), full_page=True)
        raise
    finally:
        page.close()


# ---------------------------------------------------------------- handouts (make html)

# Built and opened offline: a notebook that needs no trained model (executes in about 12 s).
HANDOUT_NOTEBOOK = "00"
# a refused request of these kinds could keep a widget, its figure or the math from rendering
NEEDED_KINDS = {"script", "stylesheet", "font", "xhr", "fetch"}


def _handouts():
    """tools/handouts.py, the module `make html` runs."""
    return _tool("handouts")


@pytest.mark.browser
def test_handout_renders_slider_and_figure_offline(browser, tmp_path):
    hits = sorted(NB_DIR.glob(f"{HANDOUT_NOTEBOOK}_*.ipynb"))
    assert hits and panel_classes(hits[0]), f"notebook {HANDOUT_NOTEBOOK} with a panel is missing"
    path, css = hits[0], panel_classes(hits[0])[0]
    t0 = time.monotonic()
    lines: list[str] = []
    if not _handouts().build([path], tmp_path, log=lines.append):
        msg = "; ".join(lines)  # npm missing or the registry unreachable
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    built = time.monotonic() - t0
    page_file = tmp_path / f"{path.stem}.html"
    scripts = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", page_file.read_text())
    assert scripts and not [s for s in scripts if urlparse(s).scheme], scripts

    refused: list[tuple[str, str]] = []

    def offline(route):
        if urlparse(route.request.url).scheme in ("file", "data", "blob"):
            route.continue_()
        else:
            refused.append((route.request.resource_type, route.request.url))
            route.abort("internetdisconnected")

    page = browser.new_page()
    page.route("**/*", offline)
    try:
        page.goto(page_file.as_uri(), wait_until="load")
        # .widget-subarea exists only once the widget manager has rendered the saved state
        panel = page.locator(f".widget-subarea .{css}").first
        panel.locator(".widget-slider .noUi-handle").first.wait_for(timeout=30_000)
        page.wait_for_function(
            """sel => { const i = document.querySelector(sel);
                        if (!i || !i.complete || !i.naturalWidth) return false;
                        const r = i.getBoundingClientRect(); return r.width > 0 && r.height > 0; }""",
            arg=f".widget-subarea .{css}-plot img", timeout=30_000)
        readout = _text(page.locator(f".{css}-readout").first)
        assert readout, "the saved readout is empty"
        page.wait_for_function("() => document.querySelector('.MathJax_CHTML')", timeout=30_000)
        panel.scroll_into_view_if_needed()
        _shot(panel, f"handout-{path.stem}")
    except BaseException:
        page.screenshot(path=str(SHOTS / f"handout-{path.stem}-failure.png"), full_page=True)
        print(f"network requests refused: {refused}")
        raise
    finally:
        page.close()
    print(f"{page_file.name}: built in {built:.1f} s; slider, figure and math rendered offline; "
          f"readout {readout!r}; {len(refused)} network request(s) refused: {refused}")
    needed = [r for r in refused if r[0] in NEEDED_KINDS]
    assert not needed, f"the page asked the network for {needed}"


def test_handouts_without_npm_still_write_pages(tmp_path, monkeypatch):
    """No npm: one line says the pages are not offline, and nbconvert runs with its CDN links."""
    handouts = _handouts()
    commands = []
    monkeypatch.setattr(handouts.shutil, "which", lambda name: None)
    monkeypatch.setattr(handouts.subprocess, "run", lambda cmd, **kw: commands.append(cmd))
    lines: list[str] = []
    nb = NB_DIR / "00_start_here.ipynb"
    assert handouts.build([nb], tmp_path / "html", cache=tmp_path / "npm", log=lines.append) is False
    assert len(lines) == 1 and "NOT OFFLINE" in lines[0] and "npm not found" in lines[0], lines
    (cmd,) = commands
    assert "--execute" in cmd and str(nb) in cmd
    assert not [a for a in cmd if a.startswith("--HTMLExporter.")], cmd


def test_panel_detection_finds_roots(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": [
        'HTML(\'<div class="dpolab-token-heatmap">\')\n',
        'p = widgets.panel(partial(f, a="x"), "dpolab-tether", beta=s)\n', 'find("dpolab-tether-beta")\n',
        'b = widgets.pair_browser(rows)\n', 'q = widgets.panel(lambda v: g(v, T), "dpolab-bias", v=s)\n']}]}
    path = tmp_path / "99_x.ipynb"
    path.write_text(json.dumps(nb))
    assert panel_classes(path) == ["dpolab-tether", "dpolab-bias"]


# ---------------------------------------------------------------- notebook 12: label by keyboard

REVIEWER_NOTEBOOK = NB_DIR / "12_you_are_the_reviewer.ipynb"
LABEL_KEYS = ["1", "2", "1", "1", "2"]  # five labels: A, B, A, A, B


@pytest.fixture(scope="module")
def reviewer_ready():
    """Everything notebook 12 reads from the cache, built here through the package (with its
    progress printed), so that no page ever trains; then the learner's label file path."""
    from dpolab import labelpolicy, labels

    t0 = time.monotonic()
    labelpolicy.prepare(progress=True)
    print(f"notebook 12's models and audits ready in {time.monotonic() - t0:.1f} s", flush=True)
    return labels.label_path("you"), labels.queue()


def _counter(page) -> str:
    return _text(page.locator(".dpolab-labeller-counter").first)


def _wait_counter(page, n: int, timeout: int = 30_000) -> None:
    page.wait_for_function(
        "want => { const el = document.querySelector('.dpolab-labeller-counter');"
        " return !!el && el.innerText.replace(/\\u00a0/g, ' ').trim().startsWith(want); }",
        arg=f"{n} of 40", timeout=timeout)


def _hover_until_watched(page, card, timeout_s: float = 60) -> None:
    """Put the pointer over the card until ipyevents says it listens: it marks the desk
    `ipyevents-watched` on the pointer's entry, and an entry that came before its listener was
    attached (the page still loading its widgets) is not seen, so the pointer leaves and comes
    back. A key pressed before that mark would be lost, and the test would blame the desk."""
    deadline = time.monotonic() + timeout_s
    while not page.locator(".dpolab-labeller.ipyevents-watched").count():
        if time.monotonic() > deadline:
            pytest.fail(f"ipyevents never listened to the labelling desk ({timeout_s:.0f} s)")
        page.mouse.move(0, 0)
        card.hover()
        page.wait_for_timeout(250)


def _label_by_keyboard(page, path: Path, queue: list[dict]) -> None:
    """Press the five keys with the pointer over the card; check the counter and the file."""
    from dpolab import labels

    _wait_counter(page, 0)
    card = page.locator(".dpolab-labeller-card")  # the card widget (its HTML is a .dpolab-card-body)
    card.scroll_into_view_if_needed()
    for i, key in enumerate(LABEL_KEYS, start=1):
        _hover_until_watched(page, card)  # ipyevents listens while the pointer is over the desk
        page.keyboard.press(key)
        _wait_counter(page, i)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["pair_id"] for r in rows] == [p["pair_id"] for p in queue[:5]]
    for row, pair, key in zip(rows, queue, LABEL_KEYS):
        want = labels.label_row(pair, labels.answer_for(pair, {"1": "A", "2": "B"}[key]))
        assert (row["chosen"], row["rejected"]) == (want["chosen"], want["rejected"])


@pytest.mark.browser
@pytest.mark.timeout(3600)  # from an empty cache the fixture first trains the reference (minutes)
def test_jupyterlab_labels_by_keyboard_and_resumes(browser, lab, reviewer_ready):
    path, queue = reviewer_ready
    path.unlink(missing_ok=True)
    lab.clear_sessions()
    page = browser.new_page()
    name = REVIEWER_NOTEBOOK.name

    def open_and_run():
        page.goto(f"{lab.base}/lab/tree/{name}?reset&token={TOKEN}", wait_until="domcontentloaded")
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=90_000)
        _run_all_cells(page)
        page.locator(".dpolab-labeller-counter").first.wait_for(timeout=KERNEL_WAIT_MS)
        page.wait_for_function(  # every cell has run: the keys reach an idle kernel
            """() => {
                const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
                return p.length && p.every(e => !e.innerText.includes('*'))
                    && /\\[\\d+\\]/.test(p[p.length - 1].innerText);
            }""", timeout=KERNEL_WAIT_MS)
        _no_errors(page)

    try:
        open_and_run()
        _label_by_keyboard(page, path, queue)
        _shot(page.locator(".dpolab-labeller").first, "lab-12-labelled")
        lab.clear_sessions()          # the kernel goes: what is left is the file
        page.reload(wait_until="domcontentloaded")
        open_and_run()
        _wait_counter(page, 5)
        assert _counter(page).startswith("5 of 40")
        assert len(path.read_text().splitlines()) == 5
    except Exception:
        page.screenshot(path=str(SHOTS / "lab-12-failure.png"), full_page=True)
        raise
    finally:
        page.close()
        lab.clear_sessions()


@pytest.mark.browser
@pytest.mark.timeout(3600)
def test_voila_labels_by_keyboard_and_resumes(browser, voila, reviewer_ready):
    path, queue = reviewer_ready
    path.unlink(missing_ok=True)
    page = browser.new_page()
    url = f"{voila.url}/voila/render/{REVIEWER_NOTEBOOK.name}"
    try:
        for attempt, labelled in ((1, 0), (2, 5)):
            mark = voila.mark()
            if attempt == 1:
                page.goto(url, wait_until="commit", timeout=VOILA_WAIT_S * 1000)
            else:
                page.reload(wait_until="commit", timeout=VOILA_WAIT_S * 1000)
            t0 = time.monotonic()
            while not page.locator(".dpolab-labeller-counter").count():
                if voila.errors_since(mark):
                    pytest.fail(f"Voila could not execute a cell:\n{voila.errors_since(mark)}")
                if time.monotonic() - t0 > VOILA_WAIT_S:
                    pytest.fail(f"no labelling desk after {VOILA_WAIT_S} s")
                page.wait_for_timeout(500)
            assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
            # Voila shows the cells once it has executed them all (its spinner, #loading, goes):
            # until then the kernel is busy and a key press would wait in its queue.
            page.locator("#loading").wait_for(state="detached", timeout=VOILA_WAIT_S * 1000)
            _wait_counter(page, labelled)
            if attempt == 1:
                _label_by_keyboard(page, path, queue)
                _shot(page.locator(".dpolab-labeller").first, "voila-12-labelled")
        assert _counter(page).startswith("5 of 40")   # a fresh kernel, resumed from the file
        assert len(path.read_text().splitlines()) == 5
    except BaseException:
        page.screenshot(path=str(SHOTS / "voila-12-failure.png"), full_page=True)
        print("Voila's log since the page opened:\n" + voila.since(mark)[-6000:])
        raise
    finally:
        page.close()
