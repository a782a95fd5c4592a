"""The passport's data page as a PNG: the photo, the printed fields and the two MRZ lines (in a
monospaced face, as OCR-B would be), what the app's camera scans before it reads the chip."""

from __future__ import annotations

import io
from pathlib import Path

from firmware_sim.passport.issuer import Passport

_MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _font(path: Path, size: int) -> object:
    from PIL import ImageFont

    if path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def render(passport: Passport) -> bytes:
    from PIL import Image, ImageDraw

    holder = passport.holder
    page = Image.new("RGB", (1250, 880), (236, 230, 214))
    draw = ImageDraw.Draw(page)
    title, label, value, mrz = (
        _font(_SANS, 34),
        _font(_SANS, 18),
        _font(_SANS, 28),
        _font(_MONO, 38),
    )
    draw.text((40, 25), f"PASSPORT · {holder.issuing_state}", fill=(60, 40, 90), font=title)  # type: ignore[arg-type]
    with Image.open(io.BytesIO(holder.photo)) as photo:
        portrait = photo.convert("RGB")
    portrait.thumbnail((330, 420))
    page.paste(portrait, (40, 100))
    fields = [
        ("Type / Type", "P"),
        ("Surname / Efternavn", holder.surname.upper()),
        ("Given names / Fornavne", holder.given_names.upper()),
        ("Nationality / Nationalitet", holder.nationality),
        ("Date of birth / Fødselsdato", holder.birth.strftime("%d %b %Y").upper()),
        ("Sex / Køn", holder.sex if holder.sex != "<" else "X"),
        ("Passport No. / Pas nr.", passport.document_number),
        ("Date of expiry / Udløbsdato", holder.expiry.strftime("%d %b %Y").upper()),
        ("CAN", passport.can),
    ]
    y = 100
    for caption, text in fields:
        draw.text((420, y), caption, fill=(90, 90, 90), font=label)  # type: ignore[arg-type]
        draw.text((420, y + 20), text, fill=(0, 0, 0), font=value)  # type: ignore[arg-type]
        y += 56
    draw.rectangle((0, 680, 1250, 880), fill=(245, 242, 232))
    for row, line in enumerate(passport.mrz):
        draw.text((30, 705 + 80 * row), line, fill=(0, 0, 0), font=mrz)  # type: ignore[arg-type]
    out = io.BytesIO()
    page.save(out, "PNG")
    return out.getvalue()
