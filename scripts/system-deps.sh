#!/usr/bin/env bash
# Installs the Debian packages the project uses when they are missing and apt-get can run:
# espeak-ng (speech), chromium (the browser tests drive it through Playwright) and xmlsec1
# (pysaml2 signs and encrypts the NemLog-in IdP's SAML messages with it); pcscd with vsmartcard's
# virtual reader and OpenSC (the simulated passport as a PC/SC card, read by opensc-tool).
set -euo pipefail
need=()
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
[ -x /usr/sbin/pcscd ] || need+=(pcscd)
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || need+=(vsmartcard-vpcd)
command -v opensc-tool >/dev/null 2>&1 || need+=(opensc)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing Debian packages: ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
  exit 0
fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
