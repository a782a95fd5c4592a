"""``python -m authenticators.cli`` runs ``mitid-emu``."""

from __future__ import annotations

from authenticators.cli import main

main()
