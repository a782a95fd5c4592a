"""The face check: the person in front of the camera against the photo in DG2.

An emulated verifier, honest where it can be: a perceptual hash (DCT, 256 bits) of both images,
so a photo of someone else is refused while another shot of the same face passes. Liveness and
presentation attacks cannot be judged from a file, so those outcomes are scripted by the test or
the CLI, as is any outcome a test wants to force.
"""

from __future__ import annotations

import enum
import io
from dataclasses import dataclass

HASH_SIZE = 16  # 16x16 = 256-bit pHash
THRESHOLD = 40  # bits; same face ≤ a few, different faces ≥ 60 in our measurements


class FaceOutcome(enum.Enum):
    MATCH = "match"
    NO_MATCH = "no_match"
    NO_LIVENESS = "no_liveness"
    PRESENTATION_ATTACK = "presentation_attack"


@dataclass(frozen=True)
class FaceResult:
    outcome: FaceOutcome
    distance: int | None  # bits of pHash difference; None when scripted
    detail: str


class FaceImageError(ValueError):
    """A file that is not an image."""


def _phash(image: bytes) -> object:
    import imagehash
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image)) as opened:
            return imagehash.phash(opened.convert("RGB"), hash_size=HASH_SIZE)
    except (UnidentifiedImageError, OSError, ValueError):
        raise FaceImageError("not an image (PNG or JPEG)") from None


class FaceVerifier:
    """Compares two face images; ``scripted`` forces an outcome instead."""

    def __init__(self, scripted: FaceOutcome | None = None, *, threshold: int = THRESHOLD) -> None:
        self.scripted = scripted
        self.threshold = threshold

    def compare(self, document_photo: bytes, live_image: bytes) -> FaceResult:
        if self.scripted is not None:
            _phash(live_image)  # still an image
            return FaceResult(self.scripted, None, f"scripted outcome {self.scripted.value}")
        distance = int(_phash(document_photo) - _phash(live_image))  # type: ignore[operator]
        outcome = FaceOutcome.MATCH if distance <= self.threshold else FaceOutcome.NO_MATCH
        return FaceResult(
            outcome, distance, f"perceptual hash distance {distance} (threshold {self.threshold})"
        )
