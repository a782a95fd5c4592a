"""Synthetic face photographs: a person's look drawn from a seed, the same seed the same face.

They stand in for the photos of people in tests and demos: no model, no download. Two seeds give
faces that differ in shape, colour and features, so an honest image comparison tells them apart,
while a fresh "selfie" of the same seed (another pose of light and noise) still matches.
"""

from __future__ import annotations

import hashlib
import io
import random

SKIN_TONES = [(255, 224, 196), (241, 194, 157), (224, 172, 128), (198, 134, 86), (141, 85, 54)]


def face(seed: str, *, variant: int = 0, size: tuple[int, int] = (360, 450)) -> bytes:
    """A PNG portrait for ``seed``; ``variant`` changes light and noise, not the person."""
    from PIL import Image, ImageDraw, ImageFilter

    person = random.Random(hashlib.sha256(seed.encode()).digest())
    shot = random.Random(hashlib.sha256(f"{seed}/{variant}".encode()).digest())
    width, height = size
    background = tuple(person.randrange(150, 250) for _ in range(3))
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    tone = person.choice(SKIN_TONES)
    skin = tuple(max(0, min(255, c + person.randrange(-12, 12))) for c in tone)
    hair = tuple(person.randrange(0, 120) for _ in range(3))
    cx = width // 2 + person.randrange(-40, 40)
    cy = height // 2 + person.randrange(-30, 40)
    fw, fh = person.randrange(90, 150), person.randrange(120, 190)
    draw.rectangle((0, int(height * 0.85), width, height), fill=tuple(c // 2 for c in hair))
    draw.ellipse((cx - fw - 15, cy - fh - 25, cx + fw + 15, cy + fh // 3), fill=hair)
    draw.ellipse((cx - fw, cy - fh, cx + fw, cy + fh), fill=skin)
    eye_y = cy - fh // 4 + person.randrange(-15, 15)
    eye_dx = person.randrange(35, 65)
    eye_r = person.randrange(8, 18)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        draw.ellipse((ex - eye_r * 2, eye_y - eye_r, ex + eye_r * 2, eye_y + eye_r), fill="white")
        draw.ellipse((ex - eye_r, eye_y - eye_r, ex + eye_r, eye_y + eye_r), fill=hair)
    nose = person.randrange(20, 50)
    draw.line(
        (cx, eye_y + 10, cx - 8, eye_y + 10 + nose, cx + 6, eye_y + 14 + nose), fill=hair, width=4
    )
    mouth_y = cy + fh // 2 + person.randrange(-15, 10)
    mouth_w = person.randrange(25, 60)
    draw.arc(
        (cx - mouth_w, mouth_y - 20, cx + mouth_w, mouth_y + 20),
        10,
        170,
        fill=(150, 30, 40),
        width=6,
    )
    brightness = 1.0 + shot.uniform(-0.08, 0.08)
    image = image.point(lambda v: max(0, min(255, int(v * brightness))))
    noise = Image.effect_noise(size, shot.uniform(4, 10)).convert("RGB")
    image = Image.blend(image, noise, 0.05).filter(ImageFilter.GaussianBlur(shot.uniform(0.3, 1.2)))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def camera_shot(photo: bytes, variant: int = 1) -> bytes:
    """Another picture of the person in ``photo``: other light, noise and focus, as a phone's
    camera would take it (a JPEG, small enough to send in a request)."""
    from PIL import Image, ImageFilter

    shot = random.Random(variant)
    with Image.open(io.BytesIO(photo)) as opened:
        image = opened.convert("RGB")
    image.thumbnail((360, 450))
    brightness = 1.0 + shot.uniform(-0.08, 0.08)
    image = image.point(lambda v: max(0, min(255, int(v * brightness))))
    noise = Image.effect_noise(image.size, shot.uniform(4, 10)).convert("RGB")
    image = Image.blend(image, noise, 0.05).filter(ImageFilter.GaussianBlur(shot.uniform(0.3, 1.0)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()
