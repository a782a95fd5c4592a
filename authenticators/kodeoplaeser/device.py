"""The person holding an audio code reader: the code display's holder, with the function key."""

from __future__ import annotations

from authenticators.codeviser.device import CodeTokenHolder
from authenticators.protocol import ErrorCode, ProtocolError
from firmware_sim.audio_reader import (
    AudioCodeReader,
    FunctionKey,
    KeyResult,
    NothingToReplay,
    VoiceSettings,
)


class AudioReaderHolder(CodeTokenHolder):
    """Device side of an audio code reader: press, hold the function key, change settings."""

    def _hardware(self) -> AudioCodeReader:
        record = self.tokens.get(self.name)
        return AudioCodeReader.from_state(
            record.seed, record.params, record.serial, record.hardware
        )

    def voice(self) -> VoiceSettings:
        return self._hardware().voice

    def function(self, key: FunctionKey) -> KeyResult:
        """Hold the red function button and press ``key``; function+0 replays, never presses."""
        with self.tokens.store.transaction():
            token = self._hardware()
            try:
                result = token.function(key)
            except NothingToReplay as exc:
                raise ProtocolError(
                    ErrorCode.INVALID_ARGUMENT,
                    f"{exc.message}; press its button first "
                    f"(`mitid-emu {self.tokens.kind} speak {self.name} ...`)",
                ) from None
            if result.changed:
                self.tokens.save_hardware(self.name, token.hardware_state())
        return result
