# Kernel-level probe for 00_start_here: move the demo slider, check the readout and the plot.
import math
import re

from dpolab.widgets import find

_demo = find("dpolab-demo")
_slider = find("dpolab-demo-gap")
assert _demo.summary == {"gap": 0.0, "p_safe": 0.5}
for _gap in (-4.0, 1.5, 4.0):
    _slider.value = _gap
    _want = 1 / (1 + math.exp(-_gap))
    assert abs(_demo.summary["p_safe"] - _want) < 1e-12
    # the red dot in the figure sits at the new point
    _dot = _demo.figure.axes[0].lines[1]
    assert list(_dot.get_xdata()) == [_gap] and abs(_dot.get_ydata()[0] - _want) < 1e-12
    _shown = float(re.search(r"<b>p\(safe\)</b> = ([-0-9.]+)", find("dpolab-demo-readout").value).group(1))
    assert abs(_shown - _want) <= 0.005 * abs(_want), (_shown, _want)  # to 3 significant digits
    assert _demo.last_ms < 2000, f"slider update took {_demo.last_ms:.0f} ms"
print("00 probe ok")
