#!/usr/bin/env bash
# The demo: a fresh state directory, an identity with a code display, a login, then the refusals
# a verifier must make (a replayed code, a lockout after three wrong codes).
set -euo pipefail
cd "$(dirname "$0")/.."
EMU=".venv/bin/mitid-emu"
PY=".venv/bin/python"
STATE="$(mktemp -d "${TMPDIR:-/tmp}/mitid-emu-demo.XXXXXX")"
export MITID_EMU_STATE="$STATE"
PASSWORD="demo-password-1"
json_field() { "$PY" -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ mitid-emu %s\n' "$*"; "$EMU" "$@"; }
expect_refused() {
  printf '$ mitid-emu %s\n' "$*"
  if "$EMU" "$@"; then echo "!! expected a refusal" >&2; exit 1; fi
}

step "State lives in $STATE"
run codeviser new --name demo-kodeviser
run identity create --user-id demo.user --name "Demo Bruger" --password "$PASSWORD" --cpr 010190-1234
run identity add-authenticator demo.user codeviser demo-kodeviser

step "Press the code display's button"
run codeviser code demo-kodeviser
CODE="$("$EMU" codeviser code demo-kodeviser --json | json_field code)"

step "Log in: user ID, code, password"
run login --user-id demo.user --method codeviser --service-provider "Demo Bank" \
  --reference-text "Log on to Demo Bank" --code "$CODE" --password "$PASSWORD"

step "The same code again is a replay"
expect_refused login --user-id demo.user --method codeviser --code "$CODE" --password "$PASSWORD"

step "Three wrong codes in a row block the token"
WRONG="$(printf '%06d' $(( (10#$CODE + 500000) % 1000000 )))"
for i in 1 2 3; do expect_refused codeviser verify demo-kodeviser "$WRONG"; done
NEXT="$("$EMU" codeviser code demo-kodeviser --json | json_field code)"
step "Even the right code is refused while blocked"
expect_refused codeviser verify demo-kodeviser "$NEXT"

for extra in scripts/demo.d/*.sh; do
  [ -e "$extra" ] || continue
  # shellcheck source=/dev/null
  source "$extra"
done

step "Done. Audit trail and state: $STATE"
