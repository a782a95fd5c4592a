"""What the code-token verifier keeps of one token, and its one (de)serialisation.

The token repository (:mod:`~authenticators.codeviser.tokens`) writes it into an
:class:`~authenticators.protocol.Enrollment`; the verifier
(:mod:`~authenticators.codeviser.verifier`) reads it back. Both import this module, not each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from authenticators.otp import Algorithm, OtpParams
from authenticators.protocol import Enrollment


class TokenState(NamedTuple):
    """What the verifier remembers of one token between codes (immutable, cheap to make).

    The learned drift is kept as the step the verifier expected when it last accepted a code
    (``anchor``): ``last_step - anchor`` steps. Keeping two step numbers rather than their small
    difference keeps the verification's arithmetic on values of one kind, whatever the drift.
    """

    last_step: int | None = None
    anchor: int | None = None
    failures: int = 0
    locked_until: float = 0.0

    @property
    def drift(self) -> int:
        """How many steps the token runs ahead (+) or behind (-)."""
        if self.last_step is None or self.anchor is None:
            return 0
        return self.last_step - self.anchor

    def locked(self, now: float) -> bool:
        return now < self.locked_until

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TokenState:
        if not data:
            return cls()
        last = data.get("last_step")
        anchor = data.get("anchor")
        return cls(
            last_step=None if last is None else int(last),
            anchor=None if anchor is None else int(anchor),
            failures=int(data.get("failures", 0)),
            locked_until=float(data.get("locked_until", 0.0)),
        )


def params_to_dict(params: OtpParams) -> dict[str, Any]:
    return {
        "algorithm": params.algorithm.value,
        "digits": params.digits,
        "period": params.period,
        "t0": params.t0,
    }


def params_from_dict(data: Mapping[str, Any]) -> OtpParams:
    return OtpParams(
        algorithm=Algorithm.parse(str(data["algorithm"])),
        digits=int(data["digits"]),
        period=int(data["period"]),
        t0=int(data.get("t0", 0)),
    )


@dataclass(frozen=True)
class VerifierRecord:
    """The seed, how codes are made, the replay and lockout state, the serial."""

    seed: bytes = field(repr=False)
    params: OtpParams
    state: TokenState
    serial: str

    def enrollment(self, kind: str, name: str) -> Enrollment:
        record = {
            "seed": self.seed,
            "params": params_to_dict(self.params),
            "state": self.state.to_dict(),
            "serial": self.serial,
        }
        return Enrollment(kind, name, record)

    @classmethod
    def from_enrollment(cls, enrollment: Enrollment) -> VerifierRecord:
        record = enrollment.record
        seed = record["seed"]
        if not isinstance(seed, bytes):
            raise TypeError("seed must be bytes")
        return cls(
            seed,
            params_from_dict(record["params"]),
            TokenState.from_dict(record.get("state")),
            str(record.get("serial", "")),
        )
