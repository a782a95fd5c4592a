"""mitid-emulator: the four MitID authenticators behind one challenge/response protocol."""

from __future__ import annotations

__version__ = "0.1.0"
