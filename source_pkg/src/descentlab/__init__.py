"""descentlab: the reference package of the descentlab course.

Optimizers (``descentlab.optimizers``), 2-D test surfaces
(``descentlab.surfaces``), optimizer paths (``descentlab.paths``), plots
(``descentlab.plots``), a small NumPy network and the digits data
(``descentlab.nets``, ``descentlab.data``), live widgets
(``descentlab.widgets``) and the students' self-checks (``descentlab.checks``).
"""

from .optimizers import (
    SGD,
    AdaDelta,
    AdaGrad,
    Adam,
    AdamW,
    Momentum,
    Nadam,
    Nesterov,
    RMSProp,
    available,
    get_optimizer,
)

__version__ = "0.1.0"

__all__ = [
    "SGD",
    "AdaDelta",
    "AdaGrad",
    "Adam",
    "AdamW",
    "Momentum",
    "Nadam",
    "Nesterov",
    "RMSProp",
    "__version__",
    "available",
    "get_optimizer",
]
