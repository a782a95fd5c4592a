"""Coverage-guided fuzzing (atheris): one harness per parser or protocol machine we own.

Every harness is a module with ``one_input(data: bytes) -> None`` that raises only on a real
failure: :class:`FuzzFailure` when an answer breaks the protocol's rules, or whatever exception
escaped the code under test (which is how a traceback would reach a user). Hangs are caught by
libFuzzer's per-input timeout, and by the harnesses' own deadlines where threads are involved.

The corpus of each target lives in ``security/fuzz/corpus/<target>/`` (small seed inputs, kept
in the repository); inputs that made a harness fail are written to
``security/fuzz/findings/<target>-crash-…`` (or ``-timeout-…``, ``-oom-…``). ``make test``
replays both through the harnesses, so every finding is a regression test from the moment it
is found.

More targets register in :data:`TARGETS`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
FINDINGS = HERE / "findings"


class FuzzFailure(AssertionError):
    """A harness found an answer that breaks the rules (not an escaped exception)."""


@dataclass(frozen=True)
class FuzzTarget:
    name: str
    module: str
    description: str

    def one_input(self) -> Callable[[bytes], None]:
        function: Callable[[bytes], None] = importlib.import_module(self.module).one_input
        return function

    @property
    def corpus(self) -> Path:
        return CORPUS / self.name

    @property
    def findings_prefix(self) -> str:
        return f"{FINDINGS}/{self.name}-"

    def findings(self) -> list[Path]:
        return sorted(FINDINGS.glob(f"{self.name}-*")) if FINDINGS.is_dir() else []

    def inputs(self) -> Iterator[Path]:
        """Every stored input of this target: corpus first, then findings."""
        if self.corpus.is_dir():
            yield from sorted(p for p in self.corpus.iterdir() if p.is_file())
        yield from self.findings()


TARGETS: dict[str, FuzzTarget] = {}


def register(name: str, module: str, description: str) -> None:
    if name in TARGETS:
        raise ValueError(f"fuzz target {name!r} is registered twice")
    TARGETS[name] = FuzzTarget(name, module, description)


register("ctaphid", "security.fuzz.ctaphid", "CTAPHID packet streams into the simulated chip")
register("ctap2", "security.fuzz.ctap2", "CTAP2 CBOR commands to the simulated chip")
register("u2f", "security.fuzz.u2f", "U2F (CTAP1) APDUs to the simulated chip")
register("passport_apdu", "security.fuzz.passport_apdu", "command APDUs to the passport chip")
register("otpauth", "security.fuzz.otpauth", "otpauth:// seed URIs")
register("pskc", "security.fuzz.pskc", "PSKC (RFC 6030) seed files")
register("qr_frame", "security.fuzz.qr_frame", "the app's QR frame payloads")
register(
    "server_json",
    "security.fuzz.server_json",
    "the login server's control API and OIDC endpoints (ASGI, in process)",
)
