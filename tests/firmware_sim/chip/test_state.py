"""Persistent state: what survives a restart or power cycle, and the counter's write-first rule."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping
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

    def advance(self, key: str, step: Callable[[bytes | None], bytes]) -> bytes:
        if self.fail and key == "counter":
            raise OSError("disk full")
        return super().advance(key, step)


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


def _assertion_counters(directory: str, credential: dict[str, object], count: int) -> list[int]:
    """Another process drives the same simulated chip: its own store connection and device."""
    store = Store(Path(directory))
    chip = ChipDevice(clock=FrozenClock(), backend=StoreBackend(store))
    hid = open_sim(chip)
    try:
        ctap = Ctap2(hid)
        return [
            ctap.get_assertion(RP["id"], CDH, [credential]).auth_data.counter for _ in range(count)
        ]
    finally:
        hid.close()
        chip.close()
        store.close()


def test_two_devices_on_one_stored_chip_never_reuse_a_counter(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = ChipDevice(clock=FrozenClock(), backend=StoreBackend(store))
    hid = open_sim(first)
    made = make_credential(Ctap2(hid))
    hid.close()
    # A second view of the same chip, loaded now; the first goes on signing meanwhile.
    second = ChipDevice(clock=FrozenClock(), backend=StoreBackend(Store(tmp_path)))
    counters = [first.state.next_counter(), second.state.next_counter()]
    counters += [first.state.next_counter(), second.state.next_counter()]
    assert counters == sorted(set(counters)), counters
    first.close()
    second.close()
    # Processes at once, as two `mitid-emu chip` commands on sim:NAME would be.
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        runs = pool.starmap(_assertion_counters, [(str(tmp_path), descriptor_of(made), 15)] * 3)
    seen = [c for run in runs for c in run]
    assert len(set(seen)) == len(seen) == 45
    assert all(run == sorted(run) for run in runs)
    store.close()


def test_wrong_pins_from_two_devices_each_cost_a_try(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first = ChipDevice(clock=FrozenClock(), backend=StoreBackend(store))
    hid = open_sim(first)
    ClientPin(Ctap2(hid)).set_pin("1234")
    second = ChipDevice(clock=FrozenClock(), backend=StoreBackend(Store(tmp_path)))
    other = open_sim(second)
    for device in (hid, other, hid, other):
        with pytest.raises(CtapError):
            ClientPin(Ctap2(device)).get_pin_token("9999")
    hid.close()
    other.close()
    first.close()
    second.close()
    fresh = ChipDevice(clock=FrozenClock(), backend=StoreBackend(store))  # the next command
    assert fresh.state.pin_retries == 8 - 4
    fresh.close()
    store.close()
