"""Styx: plan/apply infrastructure-as-code for compute clusters."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
