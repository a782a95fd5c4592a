"""The app's QR frame payloads (``{"v":1,"p":1|2,"t":2,"h":<half>,"uc":<n>}``), as a phone
reads them off the login screen.

Rules: a payload is either read or refused with a ``ChannelError``; a frame read writes back to a
payload that reads the same frame, and two halves of one update give the binding value.
"""

from __future__ import annotations

from authenticators.app.channel import ChannelError, FrameCollector, parse_frame
from security.fuzz import FuzzFailure


def one_input(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    try:
        frame = parse_frame(text)
    except ChannelError:
        return
    if parse_frame(frame.payload()) != frame:
        raise FuzzFailure("the frame written back reads differently")
    collector = FrameCollector()
    collector.add(frame)
    other = type(frame)(3 - frame.part, frame.half, frame.update)
    value = collector.add(other)
    if value is None or len(value) != 32:
        raise FuzzFailure("two halves of one update did not give a binding value")
