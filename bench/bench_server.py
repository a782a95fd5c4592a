"""Login server speed: complete automated logins per second over HTTP, against a trivial request.

A complete login is what a service's test suite does: authorize naming the person
(``login_hint=uuid:…``, so their only method's step starts at once), the step, the redirect back,
the token exchange and the ID token checked (signature, issuer, audience, nonce);
``--path app-pages`` goes through the user ID page and the choice of method as well.
It is measured at 1 and at 50 concurrent clients, with p50 and p99
latency, beside the same server answering a trivial request (GET /health) in the same run; then
the server's memory after 10,000 identities.

The default step is the app's: the login is pushed, the app approves through the control API
(reading the QR frames off the login screen and signing, as a phone held to the screen would),
the page continues. ``--path codeviser`` measures the code display instead (code read through
the control API, then the password, checked with scrypt: about 50 ms of CPU by design, run in
the server's pool of password processes), which is bound by password hashing.

Loopback only; every phase is bounded in count and time; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from authenticators.server.testing import Emulator, authorization_request

PASSWORD = "bench-password-1"
CLIENT_ID = "bench-client"
REDIRECT = "http://127.0.0.1:9/bench"


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    token: str

    def pids(self) -> list[int]:
        """The supervisor and its worker processes."""
        found = [self.proc.pid]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(stat[1]) == self.proc.pid:
                    found.append(int(entry.name))
        return found

    def rss_mib(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total / 1024

    def cpu_seconds(self, pids: list[int]) -> float:
        """CPU time these processes (:meth:`pids`) have used so far (0 without /proc)."""
        ticks = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_server(state: Path, workers: int) -> Server:
    env = {**os.environ, "MITID_EMU_STATE": str(state)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "authenticators.cli",
            "serve",
            "--port",
            "0",
            "--workers",
            str(workers),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    for _ in range(40):  # the banner, up to the admin token's line
        lines.append(proc.stdout.readline())
        if not lines[-1] or "admin token:" in lines[-1]:
            break
    text = "".join(lines)
    url = re.search(r"login server: (http://\S+)", text)
    token = re.search(r"admin token: (\S+)", text)
    if not (url and token):
        proc.kill()
        raise SystemExit(f"the server did not start:\n{text}")
    threading.Thread(target=proc.stdout.read, daemon=True).start()  # drain its output
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(url.group(1) + "/health", timeout=1).status_code == 200:
                return Server(proc, url.group(1), token.group(1))
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the server did not answer in 15 s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Result:
    rate: float
    p50_ms: float
    p99_ms: float
    count: int
    #: CPU time per login of the server's processes and of this load client (0 for /health).
    server_cpu_ms: float = 0.0
    client_cpu_ms: float = 0.0

    def line(self, label: str) -> str:
        return (
            f"{label:38s} {self.rate:9,.1f} /s   p50 {self.p50_ms:7.1f} ms   "
            f"p99 {self.p99_ms:7.1f} ms   (n={self.count})"
        )


def trivial(server: Server, clients: int, seconds: float) -> Result:
    """GET /health over ``clients`` keep-alive connections, with a minimal asyncio HTTP/1.1
    client (httpx's own pool would be the bottleneck at 50 connections, not the server)."""
    latencies: list[float] = []
    host, port = server.url.split("//", 1)[1].rsplit(":", 1)
    request = f"GET /health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()

    async def worker(stop_at: float) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(head.decode(errors="replace"))
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - t)
        finally:
            writer.close()

    async def run() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(worker(start + seconds) for _ in range(clients)))
        return time.perf_counter() - start

    elapsed = asyncio.run(run())
    return Result(
        len(latencies) / elapsed,
        statistics.median(latencies) * 1000,
        percentile(latencies, 0.99) * 1000,
        len(latencies),
    )


class LoginPath:
    """One way through the login step; ``prepare`` makes an identity per client."""

    kind = ""
    #: Name the person in the request (``login_hint=uuid:…``), as an automated test does: no
    #: user ID page, and with one method that will do, no choice of method either.
    hinted = False

    def __init__(self) -> None:
        self.uuids: dict[str, str] = {}

    def prepare(self, emulator: Emulator, clients: int) -> list[str]:
        raise NotImplementedError

    def between_rounds(self, emulator: Emulator) -> None:
        """Run after every client has logged in once (a code token refuses a reused step)."""

    async def drive(
        self, browser: Browser, attrs: dict[str, str], html: str, fields: dict[str, str]
    ) -> None:
        """Pass the step: act through the control API, fill in ``fields`` for its form."""
        raise NotImplementedError


class CodeDisplayPath(LoginPath):
    kind = "codeviser"

    def prepare(self, emulator: Emulator, clients: int) -> list[str]:
        users = []
        for n in range(clients):
            user = f"bench-cv-{n}"
            emulator.create_identity(
                user,
                f"Bench {n}",
                password=PASSWORD,
                authenticators=[{"kind": "codeviser", "name": f"{user}-t"}],
            )
            users.append(user)
        return users

    def between_rounds(self, emulator: Emulator) -> None:
        emulator.clock(advance=30)

    async def drive(
        self, browser: Browser, attrs: dict[str, str], html: str, fields: dict[str, str]
    ) -> None:
        await _drive_code_token(browser, attrs, html, fields)


class AppPath(LoginPath):
    """authorize naming the person, the push approved through the control API, continue."""

    kind = "app"
    hinted = True

    def prepare(self, emulator: Emulator, clients: int) -> list[str]:
        users = []
        for n in range(clients):
            user = f"bench-app-{n}"
            person = emulator.create_identity(
                user, f"Bench {n}", authenticators=[{"kind": "app", "pin": "246810"}]
            )
            self.uuids[user] = person["uuid"]
            users.append(user)
        return users

    async def drive(
        self, browser: Browser, attrs: dict[str, str], html: str, fields: dict[str, str]
    ) -> None:
        await _drive_app(browser, attrs, html, fields)


class AppPagesPath(AppPath):
    """authorize, the user ID page, the choice of method, the push approved, continue."""

    hinted = False


PATHS: dict[str, type[LoginPath]] = {
    "app": AppPath,
    "app-pages": AppPagesPath,
    "codeviser": CodeDisplayPath,
}


# -- a minimal HTTP/1.1 browser: the load client shares the cores with the server -----------------


class Connection:
    """One keep-alive HTTP/1.1 connection; a request at a time, Content-Length bodies only."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.head = f"Host: {host}:{port}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        target: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        content_type: str = "application/x-www-form-urlencoded",
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"{method} {target} HTTP/1.1\r\n".encode(), self.head]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}\r\n".encode())
        if body or method == "POST":
            lines.append(
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n".encode()
            )
        lines.append(b"\r\n")
        lines.append(body)
        self.writer.write(b"".join(lines))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        found: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.lower()
            # Only set-cookie repeats in these answers; keep the cookie itself.
            if name not in found or name != "set-cookie":
                found[name] = value.strip()
        length = int(found.get("content-length", "0"))
        data = await self.reader.readexactly(length) if length else b""
        return int(status_line.split(" ", 2)[1]), found, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


_FORM = re.compile(r'<form [^>]*data-stage="([a-z_]+)"[^>]*>')
_ATTR = re.compile(r'([a-z-]+)="([^"]*)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_RADIO = re.compile(r'<input type="radio" [^>]*name="method" value="([^"]+)"')
_CODE_TOKEN = re.compile(r'data-token="([^"]+)"')


@dataclass
class Target:
    url: str
    host: str
    port: int
    admin: str


class Browser:
    """What the test browser does for one login, on one keep-alive connection."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.conn = Connection(target.host, target.port)
        self.cookie = ""

    async def get(self, path: str, admin: bool = False) -> tuple[int, dict[str, str], bytes]:
        return await self.conn.request("GET", path, headers=self._headers(admin))

    async def post(
        self, path: str, form: dict[str, str] | None = None, *, json_body: Any = None
    ) -> tuple[int, dict[str, str], bytes]:
        if json_body is not None:
            return await self.conn.request(
                "POST",
                path,
                headers=self._headers(True),
                body=json.dumps(json_body).encode(),
                content_type="application/json",
            )
        return await self.conn.request(
            "POST", path, headers=self._headers(False), body=urlencode(form or {}).encode()
        )

    def _headers(self, admin: bool) -> dict[str, str]:
        if admin:
            return {"Authorization": f"Bearer {self.target.admin}"}
        return {"Cookie": self.cookie} if self.cookie else {}

    async def follow(self, answer: tuple[int, dict[str, str], bytes]) -> tuple[str, str | None]:
        """Follow redirects: ``("page", html)`` on a page of ours, ``("callback", url)``."""
        status, headers, body = answer
        while status in (302, 303):
            cookie = headers.get("set-cookie")
            if cookie:
                self.cookie = cookie.split(";", 1)[0]
            location = headers["location"]
            if location.startswith(self.target.url + "/"):
                location = location[len(self.target.url) :]
            elif not location.startswith("/"):
                return "callback", location
            status, headers, body = await self.get(location)
        if status != 200:
            raise AssertionError(f"HTTP {status} on a login page")
        return "page", body.decode()

    async def login(self, authorize_url: str, user: str, path: LoginPath) -> str:
        """The login pages to the end; returns the authorization code."""
        self.cookie = ""
        kind, html = await self.follow(await self.get(authorize_url[len(self.target.url) :]))
        for _ in range(8):
            if kind == "callback":
                assert html is not None
                params = parse_qs(urlsplit(html).query)
                if "code" not in params:
                    raise AssertionError(f"the login ended without a code: {html}")
                return params["code"][0]
            assert html is not None
            form = _FORM.search(html)
            if form is None:
                raise AssertionError("a login page without a form")
            attrs = dict(_ATTR.findall(form.group(0)))
            stage, action = attrs["data-stage"], attrs["action"]
            fields = dict(_HIDDEN.findall(html, form.end()))
            if stage == "user_id":
                fields["user_id"] = user
            elif stage == "method":
                fields["method"] = next(
                    m for m in _RADIO.findall(html) if m.split(":", 1)[0] == path.kind
                )
            elif stage == "step":
                await path.drive(self, attrs, html, fields)
            else:
                raise AssertionError(f"the login stopped at {stage!r}")
            kind, html = await self.follow(await self.post(action, fields))
        raise AssertionError("the login pages went round in circles")


async def _drive_app(
    browser: Browser, attrs: dict[str, str], html: str, fields: dict[str, str]
) -> None:
    transaction = attrs["data-transaction"]
    status, _, body = await browser.post(
        f"/emulator/app/logins/{transaction}/approve", json_body={"bind": "qr"}
    )
    if status != 200:
        raise AssertionError(f"approve: HTTP {status}: {body[:200]!r}")


async def _drive_code_token(
    browser: Browser, attrs: dict[str, str], html: str, fields: dict[str, str]
) -> None:
    token = _CODE_TOKEN.search(html)
    assert token is not None
    url = f"/emulator/code-tokens/{attrs['data-kind']}/{token.group(1)}/code"
    _, _, body = await browser.get(url, admin=True)
    shown = json.loads(body)
    if shown["used"]:
        await browser.post(
            "/emulator/clock", json_body={"advance": float(shown["seconds_left"]) + 0.5}
        )
        _, _, body = await browser.get(url, admin=True)
        shown = json.loads(body)
    fields["code"], fields["password"] = str(shown["code"]), PASSWORD


async def one_login(browser: Browser, keys: KeySet, path: LoginPath, user: str) -> None:
    hint = {"login_hint": f"uuid:{path.uuids[user]}"} if path.hinted else {}
    request = authorization_request(browser.target.url, CLIENT_ID, REDIRECT, **hint)
    code = await browser.login(request.url, user, path)
    status, _, body = await browser.post(
        "/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "code_verifier": request.code_verifier,
        },
    )
    if status != 200:
        raise AssertionError(f"token: HTTP {status}: {body[:200]!r}")
    claims = jwt.decode(json.loads(body)["id_token"], keys, algorithms=["RS256"]).claims
    if (
        claims["nonce"] != request.nonce
        or claims["aud"] != CLIENT_ID
        or claims["iss"] != browser.target.url
    ):
        raise AssertionError("the ID token does not match the request")


def logins(
    server: Server,
    emulator: Emulator,
    keys: KeySet,
    path: LoginPath,
    users: list[str],
    clients: int,
    max_seconds: float,
    max_rounds: int,
) -> Result:
    """``clients`` browsers at once in rounds (each logs in once per round), one asyncio loop."""
    host, port = server.url.split("//", 1)[1].rsplit(":", 1)
    target = Target(server.url, host, int(port), server.token)
    latencies: list[float] = []
    server_cpu = client_cpu = 0.0
    pids = server.pids()

    async def run(browser: Browser, user: str) -> float:
        t = time.perf_counter()
        await one_login(browser, keys, path, user)
        return time.perf_counter() - t

    async def rounds() -> float:
        browsers = [Browser(target) for _ in range(clients)]
        timed = 0.0
        nonlocal server_cpu, client_cpu
        try:
            # A round untimed first: connections made, caches warm.
            await asyncio.gather(*(run(b, u) for b, u in zip(browsers, users, strict=False)))
            path.between_rounds(emulator)
            for _ in range(max_rounds):
                server_start, client_start = server.cpu_seconds(pids), time.process_time()
                start = time.perf_counter()
                latencies.extend(
                    await asyncio.gather(
                        *(run(b, u) for b, u in zip(browsers, users, strict=False))
                    )
                )
                timed += time.perf_counter() - start
                server_cpu += server.cpu_seconds(pids) - server_start
                client_cpu += time.process_time() - client_start
                path.between_rounds(emulator)
                if timed >= max_seconds:
                    break
        finally:
            for browser in browsers:
                browser.conn.close()
        return timed

    timed = asyncio.run(rounds())
    return Result(
        len(latencies) / timed,
        statistics.median(latencies) * 1000,
        percentile(latencies, 0.99) * 1000,
        len(latencies),
        server_cpu * 1000 / len(latencies),
        client_cpu * 1000 / len(latencies),
    )


def memory(server: Server, emulator: Emulator, count: int) -> tuple[float, float, float]:
    before = server.rss_mib()
    start = time.perf_counter()
    token = emulator.http.headers["Authorization"]

    def create(chunk: range) -> None:
        with httpx.Client(base_url=server.url, headers={"Authorization": token}) as http:
            for n in chunk:
                http.post(
                    "/emulator/identities", json={"user_id": f"mem-{n}", "name": f"Person {n}"}
                ).raise_for_status()

    step = max(1, count // 8)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, [range(i, min(i + step, count)) for i in range(0, count, step)]))
    return before, server.rss_mib(), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description="login server benchmark")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=6.0, help="time per phase")
    parser.add_argument("--identities", type=int, default=10_000)
    parser.add_argument("--path", choices=sorted(PATHS), default="app", help="the login step")
    args = parser.parse_args()
    path: LoginPath = PATHS[args.path]()
    with tempfile.TemporaryDirectory(prefix="mitid-bench-") as state:
        server = start_server(Path(state), args.workers)
        try:
            emulator = Emulator(server.url, server.token)
            before, after, took = memory(server, emulator, args.identities)
            memory_line = (
                f"server memory (all processes): {before:.0f} MiB at start, "
                f"{after:.0f} MiB after {args.identities:,} identities "
                f"({args.identities / took:,.0f} created/s over HTTP)"
            )
            emulator.add_client(CLIENT_ID, [REDIRECT], public=True)
            users = path.prepare(emulator, 50)
            emulator.clock(freeze=True)
            keys = KeySet.import_key_set(emulator.http.get("/jwks").json())
            print(f"login server, {args.workers} worker(s), login step: {path.kind}")
            base1 = trivial(server, 1, args.seconds / 2)
            base50 = trivial(server, 50, args.seconds / 2)
            print(base1.line("trivial request (GET /health), 1 client"))
            print(base50.line("trivial request (GET /health), 50 clients"))
            one = logins(server, emulator, keys, path, users, 1, args.seconds, 200)
            print(one.line("complete logins, 1 client"))
            fifty = logins(server, emulator, keys, path, users, 50, args.seconds, 20)
            print(fifty.line("complete logins, 50 clients"))
            print(
                f"ratio logins/trivial: 1 client {one.rate / base1.rate:.4f}, "
                f"50 clients {fifty.rate / base50.rate:.4f}"
            )
            cores = os.cpu_count() or 1
            per_login = fifty.server_cpu_ms + fifty.client_cpu_ms
            if per_login > 0:
                print(
                    f"CPU per login at 50 clients: server {fifty.server_cpu_ms:.2f} ms, "
                    f"load client {fifty.client_cpu_ms:.2f} ms; {cores} cores allow at most "
                    f"{cores * 1000 / per_login:,.0f} logins/s (at 1 client: server "
                    f"{one.server_cpu_ms:.2f} ms)"
                )
            print(
                "target at 50 clients: >= 500 logins/s with p99 < 100 ms (app step); "
                f"measured {fifty.rate:,.0f}/s, p99 {fifty.p99_ms:,.0f} ms"
                + ("" if path.kind == "app" else " (bound by scrypt password checks)")
            )
            print(memory_line)
            emulator.close()
        finally:
            server.stop()


if __name__ == "__main__":
    secrets.token_bytes(1)
    main()
