"""descentlab: the reference package of the descentlab course.

Optimizers (``descentlab.optimizers``), 2-D test surfaces
(``descentlab.surfaces``), optimizer paths (``descentlab.paths``), plots
(``descentlab.plots``), a small NumPy network and the digits data
(``descentlab.nets``, ``descentlab.data``), live widgets
(``descentlab.widgets``) and the students' self-checks (``descentlab.checks``).

Every reference optimizer class is exported at top level (``descentlab.Adam``),
taken from the registry (``descentlab.optimizers.OPTIMIZERS``), which is the one list.
"""

from .optimizers import OPTIMIZERS, available, get_optimizer

globals().update({cls.__name__: cls for cls in OPTIMIZERS.values()})

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "available",
    "get_optimizer",
    *(cls.__name__ for cls in OPTIMIZERS.values()),
]
