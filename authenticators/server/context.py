"""Everything one server process holds: the state, the shared clock, the services over them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from authenticators.clock import Clock, SystemClock
from authenticators.core.identities import IdentityRepository
from authenticators.core.login import LoginService, PasswordChecker
from authenticators.core.organisations import OrganisationRepository
from authenticators.server.clients import ClientRegistry
from authenticators.server.config import ServerConfig
from authenticators.server.flows import Flow, FlowStore
from authenticators.server.keys import KeyRing, KeyStore
from authenticators.server.oidc.models import Authentication, GrantStore
from authenticators.server.settings import TokenCheck, admin_token
from authenticators.server.state_clock import StateClock
from authenticators.store import Store

if TYPE_CHECKING:
    from starlette.responses import Response

    from authenticators.server.brokers.server import BrokerState
    from authenticators.server.nemlogin.endpoints import NemLogin
    from authenticators.server.oidc.server import EmuAuthorizationServer
    from authenticators.server.steps.base import LoginStep

# How a login ends for the service that asked (``Flow.finisher`` names one): given the finished
# authentication, or None when the person cancelled or was refused, the browser's answer.
Finisher = Callable[["Services", Flow, Authentication | None], "Response"]


@dataclass
class Services:
    config: ServerConfig
    store: Store
    clock: StateClock
    oidc_clock: Clock
    login: LoginService
    identities: IdentityRepository
    organisations: OrganisationRepository
    clients: ClientRegistry
    keys: KeyStore
    keyring: KeyRing
    grants: GrantStore
    flows: FlowStore
    admin: TokenCheck = field(repr=False)
    steps: dict[str, LoginStep] = field(default_factory=dict)
    finishers: dict[str, Finisher] = field(default_factory=dict)
    oauth: EmuAuthorizationServer | None = None
    # The broker dialects' issuers (server/brokers), made on first use.
    brokers: BrokerState | None = None
    # The NemLog-in IdP's side of this process (server/nemlogin), set when its routes are made.
    nemlogin: NemLogin | None = None

    @property
    def authorization_server(self) -> EmuAuthorizationServer:
        assert self.oauth is not None
        return self.oauth


def _password_checker(config: ServerConfig) -> PasswordChecker | None:
    if config.password_workers < 0:
        return None
    from authenticators.server.passwords import shared_pool

    return shared_pool(config.password_workers)


def build_services(config: ServerConfig, store: Store | None = None) -> Services:
    from authenticators.server.oidc.server import EmuAuthorizationServer
    from authenticators.server.steps import load_steps

    store = store or Store(config.state_path)
    clock = StateClock(store, config.clock_cache)
    # The authenticators run on the emulator's clock (a test moves it to the next code); what a
    # relying party checks against its own clock runs on real time unless told otherwise.
    oidc_clock: Clock = clock if config.oidc_clock == "emulator" else SystemClock()
    keys = KeyStore(store, oidc_clock)
    token = admin_token(store, config.admin_token) if config.admin_token else admin_token(store)
    services = Services(
        config=config,
        store=store,
        clock=clock,
        oidc_clock=oidc_clock,
        login=LoginService(store, clock, password_checker=_password_checker(config)),
        identities=IdentityRepository(store, clock),
        organisations=OrganisationRepository(store, clock),
        clients=ClientRegistry(store, clock),
        keys=keys,
        keyring=KeyRing(keys),
        grants=GrantStore(store, oidc_clock),
        flows=FlowStore(store, oidc_clock, config.flow_lifetime),
        admin=TokenCheck(token),
    )
    services.steps = load_steps()
    services.oauth = EmuAuthorizationServer(services)
    services.keyring.refresh()
    return services
