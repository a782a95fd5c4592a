# Sourced by scripts/demo.sh: the audio code reader (kodeoplæser) reads its code aloud, and logs in.
# Uses step, run, EMU, PY, json_field, PASSWORD and STATE from demo.sh; demo.user exists.

step "An audio code reader (kodeoplæser) for demo.user"
run kodeoplaeser new --name demo-kodeoplaeser
run identity add-authenticator demo.user kodeoplaeser demo-kodeoplaeser

KO_WAV="$STATE/kodeoplaeser-code.wav"
KO_AGAIN="$STATE/kodeoplaeser-again.wav"
step "Press its red button: it shows the code and reads it aloud, digit by digit, into a WAV"
run kodeoplaeser speak demo-kodeoplaeser --out "$KO_WAV"

step "Function+0 reads the same code again (no new press); the transcript is for screen readers"
run kodeoplaeser repeat demo-kodeoplaeser --out "$KO_AGAIN" --transcript
if ! cmp -s "$KO_WAV" "$KO_AGAIN"; then echo "!! the repeat differs from the first reading" >&2; exit 1; fi
echo "the repeat is the same audio as the first reading"
KO_CODE="$("$EMU" kodeoplaeser repeat demo-kodeoplaeser --out "$KO_AGAIN" --json | json_field code)"

step "Log in with the code heard: user ID, code, password (amr code_reader)"
run login --user-id demo.user --method kodeoplaeser --authenticator demo-kodeoplaeser \
  --service-provider "Demo Bank" --reference-text "Log on to Demo Bank" \
  --code "$KO_CODE" --password "$PASSWORD"

step "The spoken code is in $KO_WAV"
"$PY" -c "import sys, wave; w = wave.open(sys.argv[1]); print(f'{sys.argv[1]}: {w.getnframes() / w.getframerate():.1f} s, {w.getframerate()} Hz, 16-bit mono')" "$KO_WAV"
