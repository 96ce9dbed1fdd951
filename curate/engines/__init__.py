"""Engines: where a build's tasks run (``base.py`` is the seam; ``local.py``, ``ray.py``)."""

from curate.engines.base import Engine, make_engine, report

__all__ = ["Engine", "make_engine", "report"]
