"""The audio code reader (kodeoplæser): a code token with a voice, so the same plugin machinery.

Enrolment, seeds, the verifier, replay and lockout are the code display's, unchanged; what differs
is the hardware the person holds (:class:`~firmware_sim.audio_reader.AudioCodeReader`, reached
through :class:`~authenticators.kodeoplaeser.device.AudioReaderHolder`) and the amr value.
"""

from __future__ import annotations

from authenticators.clock import Clock
from authenticators.codeviser.plugin import CodeTokenPlugin
from authenticators.kodeoplaeser.device import AudioReaderHolder
from authenticators.store import Store


class AudioCodeReaderPlugin(CodeTokenPlugin):
    """A :class:`CodeTokenPlugin` whose holder can speak and use the function key."""

    def authenticator(self, store: Store, authenticator_id: str, clock: Clock) -> AudioReaderHolder:
        self.tokens(store).get(authenticator_id)
        return AudioReaderHolder(self.tokens(store), authenticator_id, clock)


plugin = AudioCodeReaderPlugin(kind="kodeoplaeser", amr="code_reader", serial_prefix="KO")
