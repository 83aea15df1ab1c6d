"""Lesson 08's bridge between the course's NumPy classes and PyTorch.

Imports torch: only lesson 08 imports this module (``import descentlab`` does not).
"""

from __future__ import annotations

import torch

__all__: list[str] = []

assert torch.__version__  # the module needs torch; the lesson checks first with need_torch()
