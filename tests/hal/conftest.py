"""The HAL tests share the simulated-chip fixtures with tests/chip and tests/cli."""

from __future__ import annotations

from tests.hal.fixtures import chip, fake_hid, udp_uri

__all__ = ["chip", "fake_hid", "udp_uri"]
