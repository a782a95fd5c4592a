"""The audio code reader (kodeoplæser): a code token with a voice, so the same plugin machinery."""

from __future__ import annotations

from authenticators.codeviser.plugin import CodeTokenPlugin

plugin = CodeTokenPlugin(kind="kodeoplaeser", amr="code_reader", serial_prefix="KO")
