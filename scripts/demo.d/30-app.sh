# The MitID app: enroll one, log in with it while a bot holds the phone to the screen, then a
# parallel login refused and a request rejected in the app. Sourced by scripts/demo.sh.

APP_PIN="246810"
export MITID_EMU_APP_QR_DIR="$STATE/qr"

step "Enroll a MitID app for demo.user (device key pair, PIN)"
run app enroll --user-id demo.user --pin "$APP_PIN"
run app list --user-id demo.user

step "Log in with the app: a bot scans the QR frames the login writes, then approves"
printf '$ mitid-emu app watch --auto-approve --once &\n'
"$EMU" app watch --auto-approve --once --timeout 60 &
WATCH_PID=$!
run login --user-id demo.user --method app --service-provider "Demo Bank" \
  --reference-text "Log on to Demo Bank"
wait "$WATCH_PID"

step "One app login at a time: a second is refused while the first waits"
"$EMU" login --user-id demo.user --method app --service-provider "Demo Bank" --action APPROVE \
  --reference-text "Approve transfer of 250,00 kr to account 1234-567890" \
  >"$STATE/app-login.out" 2>&1 &
LOGIN_PID=$!
for _ in $(seq 50); do
  [ "$("$EMU" app inbox --json)" != "[]" ] && break
  sleep 0.2
done
expect_refused login --user-id demo.user --method app

step "The phone shows what the user is asked; the user rejects it"
run app show
run app reject
if wait "$LOGIN_PID"; then echo "!! expected the login to be refused" >&2; exit 1; fi
tail -n 1 "$STATE/app-login.out"
unset MITID_EMU_APP_QR_DIR
