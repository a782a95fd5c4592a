"""Persistent state: what survives a restart or power cycle, and the counter's write-first rule."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin

from authenticators.clock import FrozenClock
from authenticators.store import Store
from firmware_sim.chip import ChipDevice, MemoryBackend, StoreBackend

from .conftest import CDH, RP, descriptor_of, make_credential, open_sim


def test_store_backend_keeps_everything_across_restarts(tmp_path: Path) -> None:
    clock = FrozenClock()
    store = Store(tmp_path)
    chip = ChipDevice(clock=clock, backend=StoreBackend(store))
    hid = open_sim(chip)
    ctap = Ctap2(hid)
    made = make_credential(ctap, rk=True)
    ClientPin(ctap).set_pin("1234")
    last = ctap.get_assertion(RP["id"], CDH, [descriptor_of(made)]).auth_data.counter
    cert = chip.batch.cert_der
    hid.close()
    chip.close()
    store.close()

    reopened = Store(tmp_path)
    chip = ChipDevice(clock=clock, backend=StoreBackend(reopened))
    hid = open_sim(chip)
    ctap = Ctap2(hid)
    assert ctap.info.options["clientPin"] is True
    assert ctap.info.remaining_disc_creds == 49
    assertion = ctap.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    assert assertion.auth_data.counter == last + 1
    assert chip.batch.cert_der == cert  # the model's batch is stored, not regenerated
    hid.close()
    chip.close()
    reopened.close()


def test_devices_in_one_store_are_separate(tmp_path: Path) -> None:
    store = Store(tmp_path)
    a = ChipDevice(clock=FrozenClock(), backend=StoreBackend(store, "a"))
    b = ChipDevice(clock=FrozenClock(), backend=StoreBackend(store, "b"))
    assert a.state.wrap_key != b.state.wrap_key
    a.state.next_counter()
    assert (a.state.counter, b.state.counter) == (1, 0)
    a.close()
    b.close()
    store.close()


def test_power_cycle_keeps_credentials(device: ChipDevice, ctap2: Ctap2) -> None:
    made = make_credential(ctap2, rk=True)
    device.power_cycle()
    hid = open_sim(device)
    Ctap2(hid).get_assertion(RP["id"], CDH, [descriptor_of(made)])
    hid.close()


class FailingCounter(MemoryBackend):
    """A backend whose disk 'fails' when the counter is written."""

    fail = False

    def commit(self, changes: Mapping[str, bytes | None]) -> None:
        if self.fail and "counter" in changes:
            raise OSError("disk full")
        super().commit(changes)


def test_no_signature_leaves_before_its_counter_is_stored(clock: FrozenClock) -> None:
    backend = FailingCounter()
    chip = ChipDevice(clock=clock, backend=backend)
    hid = open_sim(chip)
    ctap = Ctap2(hid)
    made = make_credential(ctap)
    backend.fail = True
    with pytest.raises(CtapError) as info:
        ctap.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    assert info.value.code == CtapError.ERR.OTHER
    backend.fail = False
    again = ctap.get_assertion(RP["id"], CDH, [descriptor_of(made)])
    assert again.auth_data.counter == made.auth_data.counter + 1
    hid.close()
    chip.close()
