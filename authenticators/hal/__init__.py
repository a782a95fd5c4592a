"""Hardware abstraction: device URIs become python-fido2 ``CtapHidDevice`` objects.

``open_device("sim:")``, ``open_device("udp://127.0.0.1:8111")``, ``open_device("hid:auto")``:
every transport yields a :class:`HalDevice` whose ``ctap`` is python-fido2's CTAPHID device over
one of our :class:`HalConnection` classes. Failures are :class:`HalError` with a code.
"""

from __future__ import annotations

from authenticators.hal.base import HalConnection, HalDevice, garbage_as_errors
from authenticators.hal.errors import HalError, HalErrorCode
from authenticators.hal.uri import (
    DeviceUri,
    Listing,
    list_devices,
    model_names,
    open_device,
    parse,
    simulator_models,
    simulator_roots,
)

__all__ = [
    "DeviceUri",
    "HalConnection",
    "HalDevice",
    "HalError",
    "HalErrorCode",
    "Listing",
    "garbage_as_errors",
    "list_devices",
    "model_names",
    "open_device",
    "parse",
    "simulator_models",
    "simulator_roots",
]
