"""The chip tests use the HAL tests' simulated-chip fixtures."""

from __future__ import annotations

from tests.hal.fixtures import chip, fake_hid, udp_uri

__all__ = ["chip", "fake_hid", "udp_uri"]
