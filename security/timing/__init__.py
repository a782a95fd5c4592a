"""Timing-leak tests in the style of dudect: see :mod:`security.timing.dudect` for the engine and
:mod:`security.timing.targets` for what is measured."""
