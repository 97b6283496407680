# Kernel-level probe for 09_deployment_and_fit_check: move the reviewer-bias slider and check the
# panel against values recounted from the cached audits' samples and a fresh held-out evaluation.
import numpy as np

from dpolab import artifacts as _artifacts
from dpolab import modelplots
from dpolab.logprobs import pair_logps as _pair_logps
from dpolab.widgets import find


_before = list(_artifacts.BUILT)   # entries this kernel built (another notebook may build its own meanwhile)
_panel = find("dpolab-reviewer-bias")
_slider = find("dpolab-reviewer-bias-bias")
_image0 = _panel.figure.data
_cols = [[r[k] for r in test] for k in ("prompt", "chosen", "rejected")]
_rw, _rl = _pair_logps(reference, tokenizer, *_cols)
for _level in list(LEVELS[1:]) + [LEVELS[0]]:
    _slider.value = _level
    assert _panel.summary["bias"] == _level
    _samples = BIAS_AUDIT[_level]["samples"]
    for _c in SAFETY:  # each category's rate, recounted from its 160 labelled replies
        _labels = [s["label"] for s in _samples if s["category"] == _c]
        assert len(_labels) == 160, (_c, len(_labels))
        assert _panel.summary[f"safe/{_c}"] == _labels.count("safe") / len(_labels), (_level, _c)
    _pooled = [s["label"] for s in _samples if s["category"] in SAFETY]
    assert len(_pooled) == 640
    assert abs(_panel.summary["safe/pooled"] - _pooled.count("safe") / 640) < 1e-12
    # held-out accuracy from a fresh forward pass of the biased policy
    _pw, _pl = _pair_logps(biased_policy(_level), tokenizer, *_cols)
    _acc = (BETA * (_pw - _rw) > BETA * (_pl - _rl)).float().mean().item()
    assert abs(_panel.summary["accuracy"] - _acc) < 1e-6, (_level, _acc)  # k / n against a float32 mean; one pair is 0.003
    # the picture shown is the one drawn for this level, and its bars are this level's rates
    assert _panel.figure.data == BIAS_IMAGES[_level].data
    _fig = BIAS_FIGURES[_level][0]
    _bars = [p.get_height() for p in _fig.axes[0].patches][:len(BIAS_CATEGORIES)]
    np.testing.assert_allclose(_bars, [_panel.summary[f"safe/{c}"] for c in BIAS_CATEGORIES])
    assert _panel.summary == modelplots.reviewer_bias(_level, BIAS_GRID, BIAS_CATEGORIES)[1]
_slider.value = LEVELS[-1]
assert _panel.figure.data != _image0
assert _panel.summary["safe/pooled"] < 0.3 < BIAS_GRID[LEVELS[0]]["safe/pooled"]["rate"]   # measured: 0.22 vs 0.92
assert _panel.summary["accuracy"] < 0.5 < BIAS_GRID[LEVELS[0]]["accuracy"]["rate"]         # measured: 0.414 vs 1.000
# kernel-side latency: best of several updates, since the machine may be shared
_ms = []
for _ in range(5):
    for _level in LEVELS:
        _slider.value = _level
        _ms.append(_panel.last_ms)
print(f"dpolab-reviewer-bias update: best {min(_ms):.1f} ms, median {np.median(_ms):.1f} ms")
assert min(_ms) < 100, _ms
assert _artifacts.BUILT == _before, f"moving the slider built cache entries: {_artifacts.BUILT[len(_before):]}"
print("09 probe ok")
