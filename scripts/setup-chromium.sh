#!/usr/bin/env bash
# Install Debian's chromium for the HTML report's browser test (test/report/html.browser.test.ts).
# Idempotent: does nothing when /usr/bin/chromium is already there. Never downloads a browser
# build of its own (playwright-core is only the driver; it launches this binary).
# On failure prints one line `setup-chromium: <why>` and exits 2.
set -u

CHROMIUM=/usr/bin/chromium

fail() {
  echo "setup-chromium: $*" >&2
  exit 2
}

if [ -x "$CHROMIUM" ]; then
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "apt-get not found (not a Debian-like system); install chromium at $CHROMIUM by hand"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || fail "not root and sudo is missing; run as root"
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# An extra apt source that cannot be reached is a warning here (exit 0): only the Debian archive is needed.
if ! $SUDO apt-get update -o DPkg::Lock::Timeout=120 >"$log" 2>&1; then
  fail "apt-get update failed: $(tail -n 1 "$log")"
fi
# Wait for another apt (unattended upgrades, a parallel job) rather than fail on its lock.
if ! $SUDO apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=120 chromium fonts-dejavu-core >"$log" 2>&1; then
  fail "apt-get install chromium failed: $(tail -n 1 "$log")"
fi
[ -x "$CHROMIUM" ] || fail "chromium installed but $CHROMIUM is missing"
if ! "$CHROMIUM" --headless --no-sandbox --disable-gpu --version >"$log" 2>&1; then
  fail "$CHROMIUM does not start: $(tail -n 1 "$log")"
fi
echo "setup-chromium: installed $("$CHROMIUM" --version 2>/dev/null | head -n 1)"
