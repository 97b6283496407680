# Kernel-level probe for 02_bradley_terry: move both sliders, check summaries and figures
# against values computed independently of the plotting code.
import math
import re

import numpy as np

from dpolab import bradley_terry as _bt
from dpolab.widgets import find

_gap = find("dpolab-bt-gap")
for _g in (-3.0, 0.0, 4.5):
    find("dpolab-bt-gap-gap").value = _g
    _want = 1 / (1 + math.exp(-_g))
    assert abs(_gap.summary["p_safe"] - _want) < 1e-12, (_g, _gap.summary)
    _dot = _gap.figure.axes[0].lines[1]
    assert list(_dot.get_xdata()) == [_g] and abs(_dot.get_ydata()[0] - _want) < 1e-12
    _shown = float(re.search(r"<b>p\(safe\)</b> = ([-0-9.]+)", find("dpolab-bt-gap-readout").value).group(1))
    assert abs(_shown - _want) <= 0.005 * abs(_want), (_shown, _want)  # to 3 significant digits
    assert _gap.last_ms < 2000, f"slider update took {_gap.last_ms:.0f} ms"
    print(f"dpolab-bt-gap: {_gap.last_ms:.1f} ms")

_noise = find("dpolab-bt-noise")
_slider = find("dpolab-bt-noise-temperature")
_rewards = np.array([2.0, -1.5, -0.5, -2.0, 0.5])
_heights_before = [p.get_height() for p in _noise.figure.axes[0].patches]
for _i, _t in enumerate(_slider.options):
    _slider.value = _t
    # refit independently from the same simulated comparisons (noise_sweep uses seed + index)
    _comps = _bt.simulate_comparisons(_rewards, 3000, temperature=_t, seed=_i)
    _fit = _bt.fit_rewards(_comps, 5, l2=1e-3)
    assert _noise.summary["temperature"] == _t
    assert abs(_noise.summary["agreement"] - _bt.accuracy(_rewards, _comps)) < 1e-12
    assert abs(_noise.summary["fit_gap"] - (_fit[0] - _fit[1])) < 1e-9
    _bars = [p.get_height() for p in _noise.figure.axes[0].patches]
    np.testing.assert_allclose(_bars[5:], _fit, atol=1e-9)  # second bar group: the fit
    np.testing.assert_allclose(_bars[:5], (_rewards - _rewards.mean()) / _t, atol=1e-12)
    assert _noise.last_ms < 2000, f"slider update took {_noise.last_ms:.0f} ms"
    print(f"dpolab-bt-noise T={_t}: {_noise.last_ms:.1f} ms")
_slider.value = _slider.options[0]
assert [p.get_height() for p in _noise.figure.axes[0].patches] != _heights_before
print("02 probe ok")
