"""Optional dependencies: one line on how to install them instead of an ImportError traceback.

Only lesson 08 needs PyTorch; ``import descentlab`` and every other lesson work
without it. The lesson's first code cell calls :func:`need_torch`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["TORCH_INSTALL", "need_torch"]

#: The one line that installs the CPU build of PyTorch the course is tested with.
TORCH_INSTALL = ("pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu")


def need_torch() -> ModuleType:
    """Import and return ``torch``, or stop with one line saying how to install it.

    Returns
    -------
    module
        The ``torch`` module.

    Raises
    ------
    SystemExit
        If PyTorch is not installed: Jupyter shows its message without a
        traceback and stops "Run all" there.
    """
    try:
        return importlib.import_module("torch")
    except ImportError:
        raise SystemExit(f"This lesson needs PyTorch (CPU build): run `{TORCH_INSTALL}` "
                         "in a terminal (or `make install` in the course folder), then "
                         "restart the kernel.") from None
