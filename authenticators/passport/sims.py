"""Simulated passports in the state directory: the issuing countries' test PKI and every passport
made with ``mitid-emu passport new``, and the chip each one becomes for ``passport:sim:NAME``.

This is the issuing side and the passport in the person's hand; the reader (``reader``, ``pa``,
``lds``) never looks here, except for the CSCA certificates it is told to trust.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from authenticators.clock import Clock
from authenticators.passport.errors import PassportError, PassportErrorCode
from authenticators.store import Schema, Store
from firmware_sim.passport import issuer
from firmware_sim.passport.chip import PassportChip

SCHEMA = Schema(
    "passports",
    [
        """
        CREATE TABLE passport_countries (
            country TEXT PRIMARY KEY,
            pki TEXT NOT NULL
        );
        CREATE TABLE passports (
            name TEXT PRIMARY KEY,
            record TEXT NOT NULL,
            created_at REAL NOT NULL
        )
        """
    ],
)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_COUNTRY = re.compile(r"[A-Z]{3}")


def _invalid(message: str) -> PassportError:
    return PassportError(PassportErrorCode.INVALID_ARGUMENT, message)


@dataclass(frozen=True)
class SimPassport:
    name: str
    passport: issuer.Passport
    flags: tuple[str, ...]  # "expired", "expired_signer", "tampered", "clone"
    created_at: float

    def summary(self) -> dict[str, Any]:
        holder = self.passport.holder
        return {
            "name": self.name,
            "surname": holder.surname,
            "given_names": holder.given_names,
            "birth": holder.birth.isoformat(),
            "nationality": holder.nationality,
            "issuing_state": holder.issuing_state,
            "document_number": self.passport.document_number,
            "can": self.passport.can,
            "expiry": holder.expiry.isoformat(),
            "mrz": list(self.passport.mrz),
            "flags": list(self.flags),
            "uri": f"passport:sim:{self.name}",
        }


def _encode(passport: issuer.Passport, flags: tuple[str, ...]) -> str:
    holder = passport.holder
    return json.dumps(
        {
            "holder": {
                "surname": holder.surname,
                "given_names": holder.given_names,
                "birth": holder.birth.isoformat(),
                "nationality": holder.nationality,
                "sex": holder.sex,
                "expiry": holder.expiry.isoformat(),
                "issuing_state": holder.issuing_state,
                "photo": holder.photo.hex(),
            },
            "document_number": passport.document_number,
            "mrz": list(passport.mrz),
            "files": {f"{fid:04X}": content.hex() for fid, content in passport.files.items()},
            "aa_key": passport.aa_key.decode(),
            "ca_key": passport.ca_key.decode(),
            "can": passport.can,
            "flags": list(flags),
        }
    )


def _decode(name: str, text: str, created_at: float) -> SimPassport:
    data = json.loads(text)
    h = data["holder"]
    holder = issuer.Holder(
        surname=h["surname"],
        given_names=h["given_names"],
        birth=dt.date.fromisoformat(h["birth"]),
        nationality=h["nationality"],
        sex=h["sex"],
        expiry=dt.date.fromisoformat(h["expiry"]),
        issuing_state=h["issuing_state"],
        photo=bytes.fromhex(h["photo"]),
    )
    passport = issuer.Passport(
        holder=holder,
        document_number=data["document_number"],
        mrz=(data["mrz"][0], data["mrz"][1]),
        files={int(fid, 16): bytes.fromhex(c) for fid, c in data["files"].items()},
        aa_key=data["aa_key"].encode(),
        ca_key=data["ca_key"].encode(),
        can=data["can"],
    )
    return SimPassport(name, passport, tuple(data["flags"]), created_at)


class SimPassports:
    def __init__(self, store: Store, clock: Clock) -> None:
        store.ensure(SCHEMA)
        self.store = store
        self.clock = clock

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.now(), dt.UTC)

    def pki(self, country: str) -> issuer.CountryPki:
        """The country's CSCA and document signer, made on first use."""
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT pki FROM passport_countries WHERE country = ?", (country,)
            ).fetchone()
        if row is not None:
            return _pki(json.loads(row["pki"]))
        made = issuer.new_pki(country, self._now())
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO passport_countries (country, pki) VALUES (?, ?)",
                (country, json.dumps(_pki_dict(made))),
            )
            row = conn.execute(
                "SELECT pki FROM passport_countries WHERE country = ?", (country,)
            ).fetchone()
        return _pki(json.loads(row["pki"]))

    def cscas(self) -> list[bytes]:
        """Every country's CSCA certificate (PEM): what a reader here trusts."""
        with self.store.read() as conn:
            rows = conn.execute("SELECT pki FROM passport_countries ORDER BY country").fetchall()
        return [json.loads(row["pki"])["csca_cert"].encode() for row in rows]

    def new(
        self,
        name: str,
        *,
        surname: str,
        given_names: str,
        birth: dt.date,
        nationality: str,
        photo: bytes,
        sex: str = "<",
        issuing_state: str | None = None,
        expired: bool = False,
        expired_signer: bool = False,
        tampered: bool = False,
        clone: bool = False,
        active_authentication: str = "ecdsa",
    ) -> SimPassport:
        """A passport; ``clone`` puts its files on a chip without the issuer's keys."""
        if not _NAME.fullmatch(name):
            raise _invalid(f"invalid passport name {name!r}: letters, digits, '.', '_', '-'")
        if active_authentication not in ("ecdsa", "rsa"):
            raise _invalid("Active Authentication is ecdsa or rsa")
        if sex not in ("M", "F", "<"):
            raise _invalid("sex is M, F or < (unspecified)")
        nationality = nationality.upper()
        if not _COUNTRY.fullmatch(nationality):
            raise _invalid(
                f"a nationality is three letters (ISO 3166 alpha-3), not {nationality!r}"
            )
        state = (issuing_state or nationality).upper()
        now = self._now()
        if not surname.strip():
            raise _invalid("a passport needs a surname")
        if birth >= now.date():
            raise _invalid("the birth date must be in the past")
        years = 10 if (now.date() - birth).days >= 18 * 365 else 5
        today = now.date()
        expiry = (
            today - dt.timedelta(days=30)
            if expired
            else dt.date(today.year + years, today.month, min(today.day, 28))
        )
        pki = self.pki(state)
        if expired_signer:
            pki = issuer.new_signer(pki, now - dt.timedelta(days=400), now - dt.timedelta(days=1))
        holder = issuer.Holder(
            surname=surname.strip(),
            given_names=given_names.strip(),
            birth=birth,
            nationality=nationality,
            sex=sex,
            expiry=expiry,
            issuing_state=state,
            photo=photo,
        )
        try:
            passport = issuer.issue(
                holder, pki, now, tamper=tampered, active_authentication=active_authentication
            )
        except OSError:
            raise _invalid("the photo is not an image (PNG or JPEG)") from None
        if clone:
            passport = issuer.clone(passport)
        flags = tuple(
            flag
            for flag, on in (
                ("expired", expired),
                ("expired_signer", expired_signer),
                ("tampered", tampered),
                ("clone", clone),
            )
            if on
        )
        return self._insert(name, passport, flags)

    def _insert(self, name: str, passport: issuer.Passport, flags: tuple[str, ...]) -> SimPassport:
        now = self.clock.now()
        with self.store.transaction() as conn:
            try:
                conn.execute(
                    "INSERT INTO passports (name, record, created_at) VALUES (?, ?, ?)",
                    (name, _encode(passport, flags), now),
                )
            except sqlite3.IntegrityError:
                raise _invalid(f"a passport named {name!r} exists; choose another name") from None
        return SimPassport(name, passport, flags, now)

    def get(self, name: str) -> SimPassport:
        with self.store.read() as conn:
            row = conn.execute("SELECT * FROM passports WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise PassportError(
                PassportErrorCode.UNKNOWN_PASSPORT,
                f"no passport named {name!r}; make one with `mitid-emu passport new`",
            )
        return _decode(row["name"], row["record"], row["created_at"])

    def list(self) -> list[SimPassport]:
        with self.store.read() as conn:
            rows = conn.execute("SELECT * FROM passports ORDER BY name").fetchall()
        return [_decode(r["name"], r["record"], r["created_at"]) for r in rows]

    def delete(self, name: str) -> None:
        self.get(name)
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM passports WHERE name = ?", (name,))

    def chip(self, name: str) -> PassportChip:
        """The simulated chip of passport ``name``, powered off."""
        return PassportChip(self.get(name).passport.chip_data())


def _pki_dict(pki: issuer.CountryPki) -> dict[str, str]:
    return {
        "country": pki.country,
        "csca_cert": pki.csca_cert.decode(),
        "csca_key": pki.csca_key.decode(),
        "signer_cert": pki.signer_cert.decode(),
        "signer_key": pki.signer_key.decode(),
    }


def _pki(data: dict[str, str]) -> issuer.CountryPki:
    return issuer.CountryPki(
        data["country"],
        data["csca_cert"].encode(),
        data["csca_key"].encode(),
        data["signer_cert"].encode(),
        data["signer_key"].encode(),
    )
