"""Channel binding for desktop logins: binding values, the two QR frames, the 4-digit code.

The login screen shows two QR frames in turn, each carrying half of a binding value and the
update counter: ``{"v":1,"p":1|2,"t":2,"h":<half>,"uc":<n>}``. A phone that has read both frames
of one update knows the binding value and signs it; a person who cannot scan types the 4-digit
code derived from the same value instead. Frames come as payload strings, PNG images (segno) and
terminal drawings; a phone reads PNGs with zxing-cpp.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import segno
import zxingcpp
from PIL import Image, UnidentifiedImageError

from authenticators.digits import is_digits
from authenticators.protocol import ErrorCode, ProtocolError

BINDING_SIZE = 32
HALF_HEX = BINDING_SIZE  # hex characters in each half: 2 * BINDING_SIZE / 2
FRAME_VERSION = 1
FRAME_COUNT = 2
CODE_DIGITS = 4
_FRAME_KEYS = frozenset({"v", "p", "t", "h", "uc"})
_HEX = frozenset("0123456789abcdef")
MAX_PAYLOAD = 512


class ChannelError(ProtocolError):
    """A frame, image or code that is not what a login screen shows."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID_ARGUMENT, message)


def new_binding_value() -> bytes:
    return secrets.token_bytes(BINDING_SIZE)


def binding_code(value: bytes) -> str:
    """The 4-digit code a person may type instead of scanning: derived from the binding value."""
    digest = hashlib.sha256(b"mitid-emulator channel binding code\x00" + value).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def code_problem(code: str) -> str | None:
    if not is_digits(code, CODE_DIGITS):
        return f"the code from the login screen is exactly {CODE_DIGITS} digits 0-9"
    return None


@dataclass(frozen=True)
class Frame:
    """One of the two QR frames of an update."""

    part: int
    half: str
    update: int

    def payload(self) -> str:
        data = {"v": FRAME_VERSION, "p": self.part, "t": FRAME_COUNT, "h": self.half}
        data["uc"] = self.update
        return json.dumps(data, separators=(",", ":"))


def frames_for(value: bytes, update: int) -> tuple[Frame, Frame]:
    if len(value) != BINDING_SIZE:
        raise ValueError(f"a binding value is {BINDING_SIZE} bytes")
    text = value.hex()
    return Frame(1, text[:HALF_HEX], update), Frame(2, text[HALF_HEX:], update)


def parse_frame(text: str) -> Frame:
    """Read a frame payload; anything else is a :class:`ChannelError` naming what is wrong."""
    if len(text) > MAX_PAYLOAD:
        raise ChannelError("not a MitID QR frame: the payload is too long")
    try:
        data: Any = json.loads(text)
    except ValueError:
        raise ChannelError("not a MitID QR frame: the payload is not JSON") from None
    if not isinstance(data, dict) or set(data) != _FRAME_KEYS:
        raise ChannelError('not a MitID QR frame: expected {"v","p","t","h","uc"}')
    version, part, total, half, update = (data[k] for k in ("v", "p", "t", "h", "uc"))
    if not _is_int(version) or version != FRAME_VERSION:
        raise ChannelError(f"not a MitID QR frame: version {version!r} (this app reads v=1)")
    if not _is_int(total) or total != FRAME_COUNT:
        raise ChannelError(f"not a MitID QR frame: t must be {FRAME_COUNT}")
    if not _is_int(part) or part not in (1, 2):
        raise ChannelError("not a MitID QR frame: p must be 1 or 2")
    if not _is_int(update) or not 0 <= update < 2**31:
        raise ChannelError("not a MitID QR frame: uc must be a counter of 0 or more")
    if not isinstance(half, str) or len(half) != HALF_HEX or not set(half.lower()) <= _HEX:
        raise ChannelError(f"not a MitID QR frame: h must be {HALF_HEX} hex digits")
    return Frame(part, half.lower(), update)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class FrameCollector:
    """What a phone has read so far: both frames of one update give the binding value."""

    update: int | None = None
    halves: dict[int, str] = field(default_factory=dict, repr=False)

    def add(self, frame: Frame) -> bytes | None:
        """Take one frame; returns the binding value once both halves of one update are in."""
        if frame.update != self.update:
            self.update = frame.update
            self.halves = {}
        self.halves[frame.part] = frame.half
        return self.value()

    def value(self) -> bytes | None:
        if set(self.halves) != {1, 2}:
            return None
        return bytes.fromhex(self.halves[1] + self.halves[2])

    def to_dict(self) -> dict[str, Any]:
        return {"update": self.update, "halves": {str(k): v for k, v in self.halves.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FrameCollector:
        if not data:
            return cls()
        halves = {int(k): str(v) for k, v in dict(data.get("halves") or {}).items()}
        update = data.get("update")
        return cls(None if update is None else int(update), halves)


# -- images ------------------------------------------------------------------------------------


def _qr(payload: str) -> Any:
    return segno.make(payload, error="m", micro=False)


def render_png(payload: str, *, scale: int = 4) -> bytes:
    out = io.BytesIO()
    _qr(payload).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def render_terminal(payload: str) -> str:
    """The QR code drawn with block characters, two modules per line."""
    out = io.StringIO()
    _qr(payload).terminal(out=out, compact=True)
    return out.getvalue()


def write_png(path: Path, payload: str) -> None:
    """Write atomically, so a phone reading the file never sees half an image."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_bytes(render_png(payload))
    tmp.replace(path)


def scan_png(source: Path | bytes, *, name: str = "") -> list[str]:
    """The texts of the QR codes in a PNG (or any image Pillow reads)."""
    label = name or (str(source) if isinstance(source, Path) else "the image")
    try:
        data = source.read_bytes() if isinstance(source, Path) else source
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            formats = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
            found = zxingcpp.read_barcodes(image, formats=formats)
    except OSError as exc:
        if isinstance(exc, UnidentifiedImageError):
            raise ChannelError(f"cannot read {label}: it is not an image") from None
        raise ChannelError(f"cannot read {label}: {exc.strerror or exc}") from None
    except (ValueError, SyntaxError, RuntimeError, Image.DecompressionBombError) as exc:
        raise ChannelError(f"cannot read {label}: {exc}") from None
    texts = [barcode.text for barcode in found if barcode.valid]
    if not texts:
        raise ChannelError(f"no QR code found in {label}")
    return texts


def scan_frame_png(source: Path | bytes, *, name: str = "") -> Frame:
    texts = scan_png(source, name=name)
    return parse_frame(texts[0])
