"""``python -m security.fuzz.seed_corpus``: write the seed inputs of every fuzz target.

The seeds are a handful of well-formed inputs per target (the fuzzer mutates from there), made
with the same fixed-secret chip the harnesses use, so key handles and credential IDs in them are
valid. Running it again rewrites the same files (names are content hashes).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from pathlib import Path

from authenticators.app.channel import frames_for
from authenticators.codeviser.seeds import SeedImport, to_otpauth, write_pskc
from authenticators.otp import Algorithm, OtpParams
from firmware_sim.chip import cbor
from firmware_sim.chip.presence import Activity
from security.fuzz import CORPUS
from security.fuzz._chip import fixed_device

CDH = hashlib.sha256(b"client data").digest()
RP = {"id": "example.com", "name": "Example"}
USER = {"id": b"user-1", "name": "bob", "displayName": "Bob"}
APP = hashlib.sha256(b"https://example.com").digest()


def write(target: str, inputs: Iterable[bytes]) -> int:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for data in inputs:
        name = f"seed-{hashlib.sha256(data).hexdigest()[:16]}"
        (folder / name).write_bytes(data)
        count += 1
    return count


def _command(cmd: int, params: dict[object, object] | None = None) -> bytes:
    return bytes([cmd]) + (cbor.encode(params) if params is not None else b"")


def ctap2_inputs() -> list[bytes]:
    device = fixed_device()
    make = _command(
        0x01,
        {1: CDH, 2: RP, 3: USER, 4: [{"type": "public-key", "alg": -7}], 7: {"rk": True}},
    )
    answer = device.ctap2.handle(make, Activity())
    auth_data = cbor.decode(answer[1:])[2]
    length = struct.unpack_from(">H", auth_data, 53)[0]
    cred_id = auth_data[55 : 55 + length]
    device.close()
    return [
        b"\x04",
        make,
        _command(
            0x01,
            {
                1: CDH,
                2: RP,
                3: USER,
                4: [{"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}],
                6: {"credProtect": 2, "hmac-secret": True, "credBlob": b"blob"},
            },
        ),
        _command(0x02, {1: "example.com", 2: CDH, 3: [{"type": "public-key", "id": cred_id}]}),
        _command(0x02, {1: "example.com", 2: CDH, 5: {"up": False}}),
        _command(0x06, {1: 2, 2: 1}),
        _command(0x06, {1: 2, 2: 2}),
        _command(0x06, {1: 1, 2: 2}),
        b"\x07",
        b"\x08",
        b"\x0b",
        _command(0x0A, {1: 1}),
        _command(0x0C, {1: 32, 3: 0}),
        _command(0x0D, {1: 1}),
        _command(0x01, {1: CDH, 2: RP, 3: USER, 4: [{"type": "public-key", "alg": -35}]}),
        _command(0x01, {1: CDH, 2: RP, 3: USER, 4: [{"type": "public-key", "alg": -257}]}),
        _command(
            0x01,
            {
                1: CDH,
                2: RP,
                3: USER,
                4: [{"type": "public-key", "alg": -7}],
                6: {
                    "hmac-secret": True,
                    "hmac-secret-mc": {1: {1: 2}, 2: bytes(32), 3: bytes(32), 4: 2},
                    "thirdPartyPayment": True,
                },
                0x0A: 2,
            },
        ),
        _command(0x02, {1: "example.com", 2: CDH, 4: {"thirdPartyPayment": True}}),
        _command(0x01, {1: CDH, 2: RP, 3: USER, 4: [{"type": "public-key", "alg": -7}], 8: b""}),
        _command(0x41, {1: 1, 3: 1, 4: bytes(16)}),
        _command(0x06, {1: 2, 2: 9, 3: {1: 2}, 6: bytes(32), 9: 0x40}),
    ]


def u2f_inputs() -> list[bytes]:
    device = fixed_device()
    register = b"\x00\x01\x03\x00\x40" + CDH + APP
    answer = device.u2f.handle(register)
    handle = answer[67 : 67 + answer[66]]
    device.close()
    body = CDH + APP + bytes([len(handle)]) + handle
    return [
        b"\x00\x03\x00\x00",
        b"\x00\x03\x00\x00\x00\x00\x00",
        register,
        b"\x00\x01\x03\x00\x00\x00\x40" + CDH + APP + b"\x00\x00",
        b"\x00\x02\x03\x00" + bytes([len(body)]) + body,
        b"\x00\x02\x07\x00" + bytes([len(body)]) + body,
        b"\x00\x02\x08\x00" + bytes([len(body)]) + body + b"\x00",
    ]


def _record(route: int, report: bytes, advance: bool = False) -> bytes:
    control = route | (0x04 if advance else 0)
    return bytes([control]) + report.ljust(64, b"\x00")


def _init_packet(cmd: int, payload: bytes, length: int | None = None) -> bytes:
    size = len(payload) if length is None else length
    return struct.pack(">IBH", 0, 0x80 | cmd, size) + payload[:57]


def ctaphid_inputs() -> list[bytes]:
    long_ping = bytes(range(100))
    return [
        _record(1, _init_packet(0x01, b"hello")),
        _record(1, _init_packet(0x10, b"\x04")),
        _record(1, _init_packet(0x01, long_ping))
        + _record(1, struct.pack(">IB", 0, 0) + long_ping[57:]),
        _record(1, _init_packet(0x01, long_ping)) + _record(2, _init_packet(0x01, b"x")),
        _record(1, _init_packet(0x01, long_ping)) + _record(1, b"\x00" * 5, advance=True),
        _record(1, _init_packet(0x08, b"")) + _record(2, _init_packet(0x04, b"\x05")),
        _record(1, _init_packet(0x04, b"\x02")) + _record(1, _init_packet(0x70, b"")),
        _record(3, _init_packet(0x06, b"12345678")),
        _record(1, _init_packet(0x10, b"\x07")) + _record(1, _init_packet(0x11, b"")),
        _record(1, _init_packet(0x03, b"\x00\x03\x00\x00")),
        _record(0, struct.pack(">IBH", 0x01020304, 0x81, 1) + b"x"),
        _record(0, struct.pack(">IBH", 0x01020304, 0x86, 8) + b"12345678")
        + _record(0, struct.pack(">IBH", 0x01020304, 0x81, 2) + b"hi"),
        _record(8, struct.pack(">IBH", 0x01020304, 0x86, 8) + b"12345678"),
    ]


def otpauth_inputs() -> list[bytes]:
    seed = bytes(range(20))
    return [
        to_otpauth(seed, OtpParams(), "alice", "MitID Emulator").encode(),
        to_otpauth(seed + seed, OtpParams(Algorithm.SHA256, 8, 60), "bob", "X", "CV123").encode(),
        b"otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Example",
        b"otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1",
        b"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=7",
        b"otpauth://totp/x?secret=not-base32",
    ]


def pskc_inputs() -> list[bytes]:
    one = SeedImport(bytes(range(20)), OtpParams(), serial="CV0001", label="alice")
    two = SeedImport(bytes(range(32)), OtpParams(Algorithm.SHA256, 8, 60), serial="CV0002")
    return [write_pskc([one]), write_pskc([one, two]), write_pskc([two], password="qwerty")]  # noqa: S106


def qr_frame_inputs() -> list[bytes]:
    first, second = frames_for(bytes(range(32)), 7)
    return [
        first.payload().encode(),
        second.payload().encode(),
        b'{"v":1,"p":1,"t":2,"h":"00","uc":0}',
        b'{"v":2,"p":1,"t":2,"h":"000102030405060708090a0b0c0d0e0f","uc":0}',
    ]


#: A valid body (JSON, or a form for the OIDC endpoints) for operations of the OpenAPI document
#: that take one; path parameters are filled from the harness's fixture.
SERVER_BODIES: dict[tuple[str, str], tuple[str, bytes]] = {
    ("POST", "/emulator/passports"): (
        "application/json",
        b'{"name": "p-1", "surname": "Berg", "given_names": "Bo", "birth": "1985-06-07",'
        b' "sex": "M", "nationality": "DNK"}',
    ),
    ("POST", "/emulator/identification/register"): (
        "application/json",
        b'{"passport": "p-1", "user_id": "bo-1", "pin": "135790", "face_of": "p-1"}',
    ),
    ("POST", "/emulator/identification/enroll"): (
        "application/json",
        b'{"passport": "p-1", "user_id": "bo-1", "kind": "codeviser", "face_of": "p-1",'
        b' "face_outcome": "no_liveness"}',
    ),
    ("POST", "/emulator/identities"): (
        "application/json",
        b'{"user_id": "bob-1", "name": "Bob", "password": "bob-password", "cpr": "0102031234",'
        b' "authenticators": [{"kind": "codeviser"}, {"kind": "app", "pin": "135790"}],'
        b' "organisations": [{"cvr": "87654321", "name": "Bob ApS", "roles": ["r"]}]}',
    ),
    ("POST", "/emulator/identities/{user_id}/authenticators"): (
        "application/json",
        b'{"kind": "codeviser", "digits": 8, "period": 60, "algorithm": "SHA256", "drift_ppm": 20}',
    ),
    ("PUT", "/emulator/identities/{user_id}/organisations/{cvr}"): (
        "application/json",
        b'{"roles": ["signer"]}',
    ),
    ("POST", "/emulator/organisations"): (
        "application/json",
        b'{"cvr": "11223344", "name": "Seed A/S"}',
    ),
    ("POST", "/emulator/clients"): (
        "application/json",
        b'{"client_id": "seed", "redirect_uris": ["http://localhost:3000/cb"], "public": false,'
        b' "client_secret": "a-secret-of-16-chars", "name": "Seed", "scopes": ["openid"]}',
    ),
    ("POST", "/emulator/clock"): ("application/json", b'{"freeze": true, "advance": 30}'),
    ("POST", "/emulator/app/logins/{transaction_id}/approve"): (
        "application/json",
        b'{"pin": "246810", "bind": "code", "app_id": "alice-app"}',
    ),
    ("POST", "/emulator/app/logins/{transaction_id}/reject"): (
        "application/json",
        b'{"app_id": "alice-app"}',
    ),
    ("POST", "/emulator/app/apps/{app_id}/requests/{transaction_id}/scan"): (
        "application/json",
        b'{"update": 0}',
    ),
    ("POST", "/emulator/chips/{name}/assert"): (
        "application/json",
        b'{"client_data_hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",'
        b' "rp_id": "localhost"}',
    ),
    ("POST", "/emulator/nemlogin/sps"): (
        "application/json",
        b'{"metadata": "<md:EntityDescriptor xmlns:md=\\"urn:oasis:names:tc:SAML:2.0:metadata\\"'
        b' entityID=\\"https://seed.example.test/saml\\"/>", "name": "Seed", "simulate": false}',
    ),
    ("POST", "/token"): (
        "application/x-www-form-urlencoded",
        b"grant_type=authorization_code&code=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F"
        b"callback&client_id=fuzz&code_verifier=" + b"v" * 43,
    ),
}
SERVER_PARAMS = {
    "{user_id}": "alice",
    "{kind}": "codeviser",
    "{authenticator_id}": "alice-cv",
    "{cvr}": "12345678",
    "{client_id}": "fuzz",
    "{name}": "alice-cv",
    "{app_id}": "alice-app",
}
#: Deletions name what other seeds create, not the harness's fixtures.
SERVER_DELETE_PARAMS = {
    "{user_id}": "bob-1",
    "{authenticator_id}": "bob-1-codeviser-1",
    "{cvr}": "11223344",
    "{client_id}": "seed",
}
SERVER_EXTRA = [
    b"GET /authorize?response_type=code&client_id=fuzz&redirect_uri=http%3A%2F%2F127.0.0.1%3A9"
    b"%2Fcallback&scope=openid&state=s&nonce=n&code_challenge=" + b"c" * 43 + b"&code_challenge"
    b"_method=S256&acr_values=urn%3Agrn%3Aauthn%3Adk%3Amitid%3Ahigh&login_hint=uuid%3Ax\n\n",
    b"POST /token\napplication/x-www-form-urlencoded\ngrant_type=refresh_token&client_id=fuzz",
    b"GET /userinfo?access_token=x\n\n",
    b"POST /emulator/chips/alice-chip/assert\napplication/json\n"
    b'{"client_data_hash": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "rp_id": "localhost"}',
    b"-GET /emulator/identities\n\n",
    b"POST /emulator/identities\napplication/json; charset=utf-8\n{}",
    b'POST /emulator/identities\ntext/plain\n{"user_id": "abc"}',
    b"GET /login/{flow}\n\n",
    b"POST /login/{flow}/step\napplication/x-www-form-urlencoded\ncode=123456&password=x",
]


def server_json_inputs() -> list[bytes]:
    """One request per operation of the server's OpenAPI document, and a few more."""
    import tempfile

    from authenticators.server.app import create_app, prepare_state
    from authenticators.server.config import ServerConfig
    from authenticators.server.openapi import openapi_document

    with tempfile.TemporaryDirectory(prefix="seed-server-") as state:
        config = ServerConfig(state_dir=state, port=8080, password_workers=-1)
        prepare_state(config)
        document = openapi_document(create_app(config).state.services)
    inputs = []
    for template, operations in document["paths"].items():
        for method in operations:
            if method == "parameters":
                continue
            path = template
            params = SERVER_PARAMS
            if method == "delete":
                params = {**SERVER_PARAMS, **SERVER_DELETE_PARAMS}
            for name, value in params.items():
                path = path.replace(name, value)
            ctype, body = SERVER_BODIES.get((method.upper(), template), ("", b""))
            inputs.append(f"{method.upper()} {path}\n{ctype}\n".encode() + body)
    return inputs + SERVER_EXTRA


def passport_apdu_inputs() -> list[bytes]:
    def seq(*hexes: str) -> bytes:
        out = b""
        for text in hexes:
            apdu = bytes.fromhex(text)
            out += bytes([len(apdu)]) + apdu
        return out

    select = "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
    read4 = "0CB000000D9701048E08ED6705417E96BA5500"
    read18 = "0CB000040D9701128E082EA28A70F3C7B53500"
    return [
        seq(select, read4, read18),
        seq(select),
        seq("00A4020C02011C", "00B0000000", "00B1011C0354010000"),
        seq("0022C1A40F800A04007F00070202040202830101", "10860000027C0000"),
        seq("0084000008", "0088000008F173589974BF40C600"),
        seq("0022C1A412800A04007F0007020204020283010184010D"),
    ]


GENERATORS = {
    "passport_apdu": passport_apdu_inputs,
    "ctap2": ctap2_inputs,
    "u2f": u2f_inputs,
    "ctaphid": ctaphid_inputs,
    "otpauth": otpauth_inputs,
    "pskc": pskc_inputs,
    "qr_frame": qr_frame_inputs,
    "server_json": server_json_inputs,
}


def main(argv: list[str] | None = None) -> None:
    import sys

    chosen = (argv if argv is not None else sys.argv[1:]) or list(GENERATORS)
    for target in chosen:
        make = GENERATORS[target]
        print(f"{target}: {write(target, make())} seed inputs in {Path(CORPUS / target)}")


if __name__ == "__main__":
    main()
