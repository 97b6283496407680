# Kernel-level probe for 03_the_tether: move beta and the reference, and check the summary and
# the bar heights against Eq. 4 computed here from the raw tables.
import numpy as np

from dpolab import bandit as _bandit
from dpolab.widgets import find

_panel = find("dpolab-tether")
_beta, _ref = find("dpolab-tether-beta"), find("dpolab-tether-reference")
_before = [p.get_height() for p in _panel.figure.axes[0].patches]
for _name in ("good", "poor"):
    _ref.value = _name
    _pref = np.array(_bandit.REFERENCES[_name][0])
    _r = np.array([r for _, _, r in _bandit.REPLIES[0]])
    for _b in (0.01, 0.1, 0.5, 2.0, 10.0):
        _beta.value = _b
        _w = _pref * np.exp((_r - _r.max()) / _b)  # Eq. 4, shifted to stay finite
        _pi = _w / _w.sum()
        _s = _panel.summary
        assert _s["beta"] == _b and _s["reference"] == _name
        assert abs(_s["p_safe"] - _pi[0]) < 1e-9, (_s, _pi)
        assert abs(_s["expected_reward"] - _pi @ _r) < 1e-9
        assert abs(_s["kl"] - np.sum(_pi * np.log(np.maximum(_pi, 1e-300) / _pref))) < 1e-9
        _bars = [p.get_height() for p in _panel.figure.axes[0].patches]
        np.testing.assert_allclose(_bars[:5], _pref)
        np.testing.assert_allclose(_bars[5:], _pi, atol=1e-12)
        _dot = _panel.figure.axes[1].lines[1]
        assert abs(_dot.get_xdata()[0] - _s["kl"]) < 1e-12
        assert _panel.last_ms < 2000, f"slider update took {_panel.last_ms:.0f} ms"
        print(f"dpolab-tether {_name} beta={_b}: {_panel.last_ms:.1f} ms")
# larger beta = tighter tether: the readout's KL falls as the slider moves right
_ref.value = "good"
_kls = []
for _b in (0.05, 0.2, 1.0, 5.0):
    _beta.value = _b
    _kls.append(_panel.summary["kl"])
assert all(a > b for a, b in zip(_kls, _kls[1:])), _kls
assert [p.get_height() for p in _panel.figure.axes[0].patches] != _before
print("03 probe ok")
