# The login server: start it, log a sample OIDC client (Authlib, PKCE) in with each kind of
# authenticator it has a login step for, print the ID token claims, stop it.
# Sourced by scripts/demo.sh (uses step, EMU, PY, STATE, PASSWORD).

step "Start the login server (a local MitID broker) in the background"
SERVER_LOG="$STATE/server.log"
"$EMU" serve --port 0 --workers 1 >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
stop_server() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT
ISSUER=""
for _ in $(seq 1 100); do
  ISSUER="$(sed -n 's/^MitID emulator login server: \(http[^ ]*\).*/\1/p' "$SERVER_LOG")"
  if [ -n "$ISSUER" ] && "$PY" -c "import httpx,sys; httpx.get(sys.argv[1] + '/health').raise_for_status()" "$ISSUER" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
if [ -z "$ISSUER" ]; then
  cat "$SERVER_LOG" >&2
  echo "!! the login server did not start" >&2
  exit 1
fi
ADMIN_TOKEN="$(sed -n 's/^  admin token: //p' "$SERVER_LOG")"
sed -n '1,6p' "$SERVER_LOG"

step "A sample OIDC client logs in through the login pages, once per kind"
"$PY" scripts/oidc_client_example.py --issuer "$ISSUER" --admin-token "$ADMIN_TOKEN" \
  --password "$PASSWORD"

step "Stop the login server"
stop_server
trap - EXIT
echo "stopped"
