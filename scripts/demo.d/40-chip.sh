# The USB chip: a simulated FIDO security key for demo.user, a login with it (chip + password
# reaches level high), the chip's own check, the QA battery's summary and a clear device error.
# Sourced by scripts/demo.sh; uses step, run, expect_refused, EMU, PY, STATE and PASSWORD.

step "A simulated chip (sim:demo-chip): what it is, then register it for demo.user"
run chip info sim:demo-chip
run chip register --device sim:demo-chip --user-id demo.user

step "Log in with the chip: user ID, a touch of the key, password (amr u2f_token, level high)"
run login --user-id demo.user --method chip --authenticator sim:demo-chip --level high \
  --service-provider "Demo Bank" --reference-text "Log on to Demo Bank" --password "$PASSWORD"

step "The chip's own check: one more assertion, verified, its signature counter committed"
run chip authenticate sim:demo-chip

step "The QA battery against a second simulated chip (destructive checks allowed)"
printf '$ mitid-emu chip selftest --device sim:qa --allow-reset --junit %s\n' "$STATE/chip-selftest.xml"
"$EMU" chip selftest --device sim:qa --allow-reset --junit "$STATE/chip-selftest.xml" | tail -n 2
"$PY" -c "import sys, xml.etree.ElementTree as ET; s = ET.parse(sys.argv[1]).getroot()[0]; print(f\"JUnit: {s.get('tests')} tests, {s.get('failures')} failures, {s.get('skipped')} skipped\")" "$STATE/chip-selftest.xml"

step "A device that is not there is named, with what to try (exit code 2)"
expect_refused chip info udp://127.0.0.1:8199
