"""Fetch python-fido2's device suite and run it against a fresh ``mitid-emu chip serve``.

The suite is the ``tests/device`` directory of the sdist of the installed ``fido2`` version,
fetched once with ``pip download`` into a cache directory. Each run starts its own simulator with
a fresh state directory on free loopback ports, runs the suite through
:mod:`authenticators.chip.conformance.plugin`, and stops the simulator.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import socket
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

DEFAULT_CACHE = Path("build") / "conformance"
#: The RP the default model (mitid-chip) gives vendor-facilitated enterprise attestation to.
ENTERPRISE_RP_ID = "enterprise.mitid-emu.test"
_LISTENING = re.compile(r"listening on udp://127\.0\.0\.1:(\d+)")


def fido2_version() -> str:
    return importlib.metadata.version("fido2")


def fetch_suite(cache: Path, version: str) -> Path:
    """The unpacked sdist of ``fido2==version`` (downloaded on first use)."""
    root = cache / f"fido2-{version}"
    if (root / "tests" / "device" / "conftest.py").is_file():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"fido2-{version}.tar.gz"
    if not archive.is_file():
        subprocess.run(
            [
                sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                "--no-binary", ":all:", f"fido2=={version}", "--dest", str(cache),
            ],
            check=True,
        )  # fmt: skip
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"fido2-{version}/")]
        tar.extractall(cache, members=members, filter="data")
    return root


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_simulator(
    state: Path, reply_port: int, extra: list[str]
) -> tuple[subprocess.Popen[str], int]:
    """``mitid-emu chip serve`` on a free port; returns the process and the port it took."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "authenticators.cli", "--state", str(state), "chip", "serve",
            "--udp", "0", "--reply-port", str(reply_port), "--presence", "always", *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    line = process.stdout.readline()
    found = _LISTENING.search(line)
    if found is None:
        process.kill()
        process.wait()
        raise RuntimeError(f"the simulator did not start: {line.strip()!r}")
    return process, int(found.group(1))


def run(suite: Path, pytest_args: list[str], serve_args: list[str]) -> int:
    """Run the suite against a fresh simulator; pytest's exit status."""
    with tempfile.TemporaryDirectory(prefix="mitid-conformance-") as state:
        reply_port = free_udp_port()
        process, port = start_simulator(Path(state), reply_port, serve_args)
        try:
            env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
            return subprocess.call(
                [
                    sys.executable, "-m", "pytest", "-p", "authenticators.chip.conformance.plugin",
                    "-p", "no:cacheprovider", "--chip-udp", f"127.0.0.1:{port}",
                    "--chip-reply", str(reply_port), "--rootdir", str(suite),
                    "--ep-rp-id", ENTERPRISE_RP_ID,
                    str(suite / "tests" / "device"), *pytest_args,
                ],
                cwd=suite,
                env=env,
            )  # fmt: skip
        finally:
            process.terminate()
            process.wait(timeout=10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m authenticators.chip.conformance",
        description="Run python-fido2's device suite against a fresh simulated chip over UDP.",
    )
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the sdist goes")
    parser.add_argument("--version", default=None, help="fido2 version (default: the installed)")
    parser.add_argument(
        "--serve-arg", action="append", default=[], help="extra `chip serve` argument"
    )
    args, pytest_args = parser.parse_known_args(argv)
    suite = fetch_suite(args.cache.resolve(), args.version or fido2_version())
    return run(suite, pytest_args or ["-q"], args.serve_arg)
