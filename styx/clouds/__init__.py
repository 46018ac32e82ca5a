"""Clouds: what each target (local, aws) turns a spec into, and what its catalog can hold."""

from __future__ import annotations
