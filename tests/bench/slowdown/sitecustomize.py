"""Put on ctmpl's PYTHONPATH by the perf guard's own test: makes one figure about twice as bad.

``CTMPL_SLOWDOWN`` names the figure, ``CTMPL_SLOWDOWN_BY`` is ctmpl's own measured figure
(seconds or MB), which this adds once more.
"""

import atexit
import os
import time

_KIND = os.environ.get("CTMPL_SLOWDOWN", "")
_BY = float(os.environ.get("CTMPL_SLOWDOWN_BY", "0"))

if _KIND == "start-up":
    atexit.register(time.sleep, _BY)
elif _KIND == "peak RSS":
    _BALLAST = b"\x01" * int(_BY * 2**20)
elif _KIND == "change latency":
    from ctmpl.template.jinja import JinjaTemplate

    _render = JinjaTemplate.render

    def _slow_render(self, ctx):  # type: ignore[no-untyped-def]
        time.sleep(_BY)
        return _render(self, ctx)

    JinjaTemplate.render = _slow_render  # type: ignore[method-assign]
