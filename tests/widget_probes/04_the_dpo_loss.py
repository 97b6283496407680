# Kernel-level probe for 04_the_dpo_loss: move the beta slider over the precomputed runs and
# check the summary and the figure against the runs and Eq. 4, computed here.
import numpy as np

from dpolab import bandit as _bandit
from dpolab.widgets import find

_panel = find("dpolab-dpo-run")
_slider = find("dpolab-dpo-run-beta")
_world = _bandit.clinic_bandit("good")
_before = [p.get_height() for p in _panel.figure.axes[1].patches]
for _b in _slider.options:
    _slider.value = _b
    _run = RUNS[_b]  # noqa: F821  (defined by the notebook)
    _w = _world.reference_probs * np.exp(_world.rewards / _b)
    _opt = _w / _w.sum(axis=1, keepdims=True)
    _s = _panel.summary
    assert _s["beta"] == _b
    assert abs(_s["p_safe"] - _run.policy[0, 0]) < 1e-12
    assert abs(_s["optimum_p_safe"] - _opt[0, 0]) < 1e-9
    assert abs(_s["tv"] - np.max(0.5 * np.abs(_run.policy - _opt).sum(axis=1))) < 1e-9
    _bars = [p.get_height() for p in _panel.figure.axes[1].patches]
    np.testing.assert_allclose(_bars[5:10], _run.policy[0])
    np.testing.assert_allclose(_bars[10:], _opt[0], atol=1e-9)
    _curve = _panel.figure.axes[0].lines[0]  # the safe reply's probability over training
    np.testing.assert_allclose(_curve.get_ydata(), _run.probs[:, 0, 0])
    assert _panel.last_ms < 2000, f"slider update took {_panel.last_ms:.0f} ms"
    print(f"dpolab-dpo-run beta={_b}: {_panel.last_ms:.1f} ms")
_slider.value = 0.1
assert [p.get_height() for p in _panel.figure.axes[1].patches] != _before
print("04 probe ok")
