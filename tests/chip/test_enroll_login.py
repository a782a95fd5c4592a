"""Enrollment over every transport, attestation trust, and whole logins through the core."""

from __future__ import annotations

import pytest

from authenticators import registry
from authenticators.chip.attestation import TrustConfig, TrustStatus
from authenticators.chip.enroll import ChipOptions
from authenticators.chip.errors import ChipHostError
from authenticators.chip.plugin import ChipPlugin
from authenticators.chip.records import ChipRepository
from authenticators.clock import FrozenClock
from authenticators.core.identities import IdentityRepository
from authenticators.core.login import LoginResult, LoginService
from authenticators.hal import HalError, HalErrorCode
from authenticators.protocol import (
    Level,
    ProtocolError,
    Reason,
    ReferenceText,
    UserAction,
)
from authenticators.store import Store
from firmware_sim.chip import ChipDevice
from tests.hal.fakehid import FakeHidApi
from tests.hal.fixtures import HID_PATH

PASSWORD = "correct horse battery"


@pytest.fixture
def plugin() -> ChipPlugin:
    found = registry.get("chip")
    assert isinstance(found, ChipPlugin)
    return found


@pytest.fixture
def person(store: Store, clock: FrozenClock) -> IdentityRepository:
    repo = IdentityRepository(store, clock)
    repo.create("anna.b", "Anna B", password=PASSWORD)
    return repo


def test_the_plugin_is_registered_with_its_levels(plugin: ChipPlugin) -> None:
    assert plugin.kind == "chip"
    assert plugin.amr == "u2f_token"
    assert plugin.needs_password is True
    assert Level.HIGH in plugin.levels


def login(
    store: Store,
    clock: FrozenClock,
    plugin: ChipPlugin,
    name: str,
    password: str = PASSWORD,
    **holder: object,
) -> tuple[LoginService, LoginResult]:
    service = LoginService(store, clock)
    challenge = service.begin(
        "anna.b",
        "chip",
        service_provider="Demo Bank",
        reference_text=ReferenceText.parse("Log on to Demo Bank"),
        level=Level.HIGH,
    )
    response = plugin.authenticator(store, name, clock, **holder).respond(
        challenge, UserAction.TOUCH
    )
    return service, service.complete(challenge.transaction_id, response, password)


def test_enroll_on_sim_is_trusted_and_logs_in_at_high(
    store: Store, clock: FrozenClock, plugin: ChipPlugin, person: IdentityRepository
) -> None:
    enrollment = plugin.enroll(store, clock, ChipOptions(uri="sim:"))
    assert enrollment.authenticator_id == "sim:"
    assert enrollment.record["attestation"]["status"] == TrustStatus.TRUSTED.value
    person.add_authenticator("anna.b", "chip", "sim:")
    before = ChipRepository(store).get("sim:").sign_count
    _, result = login(store, clock, plugin, "sim:")
    assert result.ok, result.verdict
    assert result.level is Level.HIGH
    assert result.amr == ("u2f_token", "pwd")
    after = ChipRepository(store).get("sim:")
    assert after.sign_count > before
    assert after.last_used == clock.now()


def test_a_wrong_password_fails_a_good_assertion(
    store: Store, clock: FrozenClock, plugin: ChipPlugin, person: IdentityRepository
) -> None:
    plugin.enroll(store, clock, ChipOptions(uri="sim:"))
    person.add_authenticator("anna.b", "chip", "sim:")
    _, result = login(store, clock, plugin, "sim:", password="wrong password 1")
    assert result.verdict.reason is Reason.WRONG_PASSWORD


def test_a_cloned_token_is_caught_by_its_counter(
    store: Store, clock: FrozenClock, plugin: ChipPlugin, person: IdentityRepository
) -> None:
    plugin.enroll(store, clock, ChipOptions(uri="sim:"))
    person.add_authenticator("anna.b", "chip", "sim:")
    # The genuine key signed far more often than this copy of it has.
    ChipRepository(store).save_counter("sim:", 1_000_000, clock.now())
    _, result = login(store, clock, plugin, "sim:")
    assert result.verdict.reason is Reason.COUNTER_REGRESSION
    assert ChipRepository(store).get("sim:").sign_count == 1_000_000


def test_enroll_over_udp_is_untrusted_unless_its_root_is_configured(
    store: Store,
    clock: FrozenClock,
    plugin: ChipPlugin,
    person: IdentityRepository,
    chip: ChipDevice,
    udp_uri: str,
) -> None:
    untrusted = plugin.enroll(store, clock, ChipOptions(uri=udp_uri, name="udp"))
    assert untrusted.record["attestation"]["status"] == TrustStatus.UNTRUSTED.value
    trusted = plugin.enroll(
        store,
        clock,
        ChipOptions(uri=udp_uri, name="udp2", trust=TrustConfig((chip.batch.root_der,))),
    )
    assert trusted.record["attestation"]["status"] == TrustStatus.TRUSTED.value
    person.add_authenticator("anna.b", "chip", "udp")
    _, result = login(
        store,
        clock,
        plugin,
        "udp",
    )
    assert result.ok


def test_enroll_and_login_over_the_fake_hid_device(
    store: Store,
    clock: FrozenClock,
    plugin: ChipPlugin,
    person: IdentityRepository,
    fake_hid: FakeHidApi,
) -> None:
    touches: list[str] = []
    plugin.enroll(store, clock, ChipOptions(uri="hid:auto", name="key", hid_backend=fake_hid))
    person.add_authenticator("anna.b", "chip", "key")
    _, result = login(
        store,
        clock,
        plugin,
        "key",
        hid_backend=fake_hid,
        on_touch_needed=lambda: touches.append("touch"),
    )
    assert result.ok


def test_an_unplugged_key_fails_the_login_clearly(
    store: Store,
    clock: FrozenClock,
    plugin: ChipPlugin,
    person: IdentityRepository,
    fake_hid: FakeHidApi,
) -> None:
    plugin.enroll(
        store, clock, ChipOptions(uri=f"hid:{HID_PATH}", name="key", hid_backend=fake_hid)
    )
    person.add_authenticator("anna.b", "chip", "key")
    fake_hid.unplug(HID_PATH)
    counter = ChipRepository(store).get("key").sign_count
    with pytest.raises(HalError) as exc:
        login(store, clock, plugin, "key", hid_backend=fake_hid)
    assert exc.value.code is HalErrorCode.NOT_FOUND
    assert HID_PATH in exc.value.message
    assert ChipRepository(store).get("key").sign_count == counter


def test_a_bad_device_enrolls_nothing(store: Store, clock: FrozenClock, plugin: ChipPlugin) -> None:
    api = FakeHidApi()
    api.plug("/dev/hidraw3", None, garbage=True)
    with pytest.raises(HalError):
        plugin.enroll(store, clock, ChipOptions(uri="hid:/dev/hidraw3", hid_backend=api))
    with pytest.raises(HalError):
        plugin.enroll(store, clock, ChipOptions(uri="nonsense"))
    assert ChipRepository(store).list() == []


def test_names_are_unique_and_unknown_names_are_clear(
    store: Store, clock: FrozenClock, plugin: ChipPlugin
) -> None:
    plugin.enroll(store, clock, ChipOptions(uri="sim:"))
    with pytest.raises(ChipHostError, match="enrolled already"):
        plugin.enroll(store, clock, ChipOptions(uri="sim:"))
    with pytest.raises(ProtocolError, match="chip register"):
        plugin.load(store, "sim:nothing")


def test_a_chip_answers_only_a_touch(store: Store, clock: FrozenClock, plugin: ChipPlugin) -> None:
    plugin.enroll(store, clock, ChipOptions(uri="sim:"))
    from authenticators.protocol import Challenge

    challenge = Challenge.issue("chip", "Demo", ReferenceText(), clock)
    with pytest.raises(ProtocolError, match="touch"):
        plugin.authenticator(store, "sim:", clock).respond(challenge, UserAction.REJECT)


def test_uv_enrollment_needs_the_pin_at_login(
    store: Store, clock: FrozenClock, plugin: ChipPlugin, person: IdentityRepository
) -> None:
    from authenticators.chip.host import ChipHost
    from authenticators.hal import open_device

    with open_device("sim:pinned", store=store, clock=clock) as device:
        ChipHost(device).set_pin("8642")
    plugin.enroll(store, clock, ChipOptions(uri="sim:pinned", pin="8642", uv=True))
    person.add_authenticator("anna.b", "chip", "sim:pinned")
    _, result = login(store, clock, plugin, "sim:pinned", pin="8642")
    assert result.ok
    with pytest.raises(ChipHostError, match="PIN"):
        login(store, clock, plugin, "sim:pinned", pin="0000")
