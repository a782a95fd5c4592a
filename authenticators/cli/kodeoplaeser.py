"""``mitid-emu kodeoplaeser …``: the code display's commands, plus speak, repeat and key.

``--lang``, ``--rate``, ``--volume`` and ``--repeats`` apply to that one reading only; the reader's
own settings change only through its function keys (``key``), as on the device. Every option is
checked before the button is pressed, so a mistake changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from authenticators.cli._common import Env, UserError, emit_json, pass_env, user_errors
from authenticators.cli.codetoken import AT_HELP, clock_at, code_plugin, code_token_group
from authenticators.cli.login import LoginStep, code_token_step
from authenticators.kodeoplaeser.device import AudioReaderHolder
from authenticators.kodeoplaeser.speech import (
    Audio,
    SpeechEngine,
    SpeechError,
    check_output_path,
    find_audio_output,
    play,
    speech_engine,
    transcript,
    write_wav,
)
from authenticators.protocol import Response
from firmware_sim.audio_reader import (
    RATE_MAX,
    RATE_MIN,
    REPEATS_MAX,
    REPEATS_MIN,
    VOLUME_MAX,
    VOLUME_MIN,
    FunctionKey,
    VoiceSettingError,
    VoiceSettings,
    spoken_words,
)
from firmware_sim.otp_token import seven_segment

KIND = "kodeoplaeser"
LABEL = "kodeoplæser"
P = ParamSpec("P")
R = TypeVar("R")

kodeoplaeser = code_token_group(
    KIND, "Audio code reader (kodeoplæser): a code token that reads its code aloud."
)


@contextmanager
def _speech_errors() -> Iterator[None]:
    try:
        yield
    except (SpeechError, VoiceSettingError) as exc:
        raise UserError(exc.message) from None


def _voice_and_output(func: Callable[P, R]) -> Callable[P, R]:
    options = [
        click.option("--at", type=float, help=AT_HELP),
        click.option("--lang", help="Language: da (Danish, the factory setting) or en (English)."),
        click.option("--rate", type=int, help=f"Speed, {RATE_MIN}-{RATE_MAX} words per minute."),
        click.option("--volume", type=int, help=f"Volume, {VOLUME_MIN}-{VOLUME_MAX}."),
        click.option(
            "--repeats", type=int, help=f"Readings per press, {REPEATS_MIN}-{REPEATS_MAX}."
        ),
        click.option(
            "--out",
            type=click.Path(path_type=Path),
            help="Write the speech to this WAV file (16-bit PCM mono).",
        ),
        click.option("--play", is_flag=True, help="Play the speech on this machine's speakers."),
        click.option(
            "--transcript",
            "show_transcript",
            is_flag=True,
            help="Print what is said as plain text (for screen readers and logs).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass
class _Plan:
    """Everything checked before the device is touched."""

    holder: AudioReaderHolder
    voice: VoiceSettings
    engine: SpeechEngine
    out: Path | None
    player: list[str] | None


def _prepare(
    env: Env,
    name: str,
    at: float | None,
    changes: dict[str, Any],
    out: Path | None,
    play_it: bool,
) -> _Plan:
    if (out is None) == (not play_it):
        raise UserError("give --out FILE.wav or --play (one of the two)")
    holder = code_plugin(KIND).authenticator(env.store(), name, clock_at(env, at))
    assert isinstance(holder, AudioReaderHolder)
    with _speech_errors():
        voice = holder.voice().with_changes(**changes)
        player = None
        if out is not None:
            check_output_path(out)
        else:
            player = find_audio_output()
        engine = speech_engine()
    return _Plan(holder, voice, engine, out, player)


def _deliver(plan: _Plan, code: str) -> Audio:
    with _speech_errors():
        audio = plan.engine.render(code, plan.voice)
        if plan.out is not None:
            write_wav(audio, plan.out)
        else:
            assert plan.player is not None
            play(audio, plan.player)
    return audio


def _report(
    plan: _Plan, name: str, code: str, audio: Audio, head: str, show_transcript: bool, as_json: bool
) -> None:
    record = plan.holder.tokens.get(name)
    text = transcript(LABEL, name, record.serial, code, plan.voice)
    where = f"wrote {plan.out}" if plan.out is not None else f"played through {plan.player}"
    if as_json:
        emit_json(
            {
                "name": name,
                "serial": record.serial,
                "code": code,
                "words": list(spoken_words(code, plan.voice.language)),
                **plan.voice.to_dict(),
                "engine": plan.engine.name,
                "seconds": round(audio.duration, 3),
                "sample_rate": audio.sample_rate,
                "file": None if plan.out is None else str(plan.out),
                "played": plan.out is None,
                "transcript": text,
            }
        )
        return
    click.echo(text if show_transcript else head)
    click.echo(f"{where} ({audio.duration:.1f} s of speech, {plan.engine.name})")


def _changes(
    lang: str | None, rate: int | None, volume: int | None, repeats: int | None
) -> dict[str, Any]:
    return {"language": lang, "rate": rate, "volume": volume, "repeats": repeats}


@kodeoplaeser.command("speak")
@click.argument("name")
@_voice_and_output
@pass_env
@user_errors
def speak(
    env: Env,
    name: str,
    at: float | None,
    lang: str | None,
    rate: int | None,
    volume: int | None,
    repeats: int | None,
    out: Path | None,
    play: bool,
    show_transcript: bool,
    as_json: bool,
) -> None:
    """Press the red button: show the code and read it aloud, digit by digit."""
    plan = _prepare(env, name, at, _changes(lang, rate, volume, repeats), out, play)
    display = plan.holder.press()
    assert display.code is not None
    audio = _deliver(plan, display.code)
    record = plan.holder.tokens.get(name)
    head = (
        f"{LABEL} {name} (serial {record.serial})\n{seven_segment(display.code)}\n"
        f"Code {display.code}: valid for {display.seconds_left:.0f} s more"
    )
    _report(plan, name, display.code, audio, head, show_transcript, as_json)


@kodeoplaeser.command("repeat")
@click.argument("name")
@_voice_and_output
@pass_env
@user_errors
def repeat(
    env: Env,
    name: str,
    at: float | None,
    lang: str | None,
    rate: int | None,
    volume: int | None,
    repeats: int | None,
    out: Path | None,
    play: bool,
    show_transcript: bool,
    as_json: bool,
) -> None:
    """Function+0: read the last code again. The same code: the button is not pressed."""
    plan = _prepare(env, name, at, _changes(lang, rate, volume, repeats), out, play)
    if plan.holder.last_code() is None:
        raise UserError(
            f"{LABEL} {name} has not read a code yet; press it with "
            f"`mitid-emu {KIND} speak {name} --out FILE.wav`"
        )
    result = plan.holder.function(FunctionKey.REPLAY)
    assert result.replay is not None
    if plan.holder.stale():
        click.echo(
            "note: this is no longer the current code; `speak` presses for a new one", err=True
        )
    audio = _deliver(plan, result.replay)
    head = f"{LABEL} {name}: the last code again, {result.replay}"
    _report(plan, name, result.replay, audio, head, show_transcript, as_json)


@kodeoplaeser.command("key")
@click.argument("name")
@click.argument("key", type=click.Choice([str(k.value) for k in FunctionKey if k.value]))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_env
@user_errors
def key(env: Env, name: str, key: str, as_json: bool) -> None:
    """Hold the red function button and press KEY (1-9) to change a setting.

    1/3 volume down/up, 4/6 speed down/up, 7/9 fewer/more readings, 2/8 previous/next language.
    Function+0 (read the last code again) is `mitid-emu kodeoplaeser repeat`.
    """
    holder = code_plugin(KIND).authenticator(env.store(), name, env.clock)
    assert isinstance(holder, AudioReaderHolder)
    result = holder.function(FunctionKey(int(key)))
    if as_json:
        emit_json(
            {"name": name, "key": result.key.description, "changed": result.changed}
            | result.voice.to_dict()
        )
        return
    voice = result.voice
    state = "" if result.changed else " (already at its limit)"
    click.echo(
        f"function+{key}: {result.key.description}{state}. Now {voice.language.label}, "
        f"{voice.rate} words per minute, volume {voice.volume}, {voice.repeats} reading(s)"
    )


def login_step(step: LoginStep) -> Response:
    """The code display's step; a press also tells what the reader says."""
    response = code_token_step(step)
    if step.press:
        holder = code_plugin(KIND).authenticator(
            step.env.store(), step.authenticator_id, step.env.clock
        )
        assert isinstance(holder, AudioReaderHolder)
        code = holder.last_code()
        if code is not None:
            voice = holder.voice()
            words = ", ".join(spoken_words(code, voice.language))
            step.say(f"It reads aloud in {voice.language.label}: {words}")
    return response
