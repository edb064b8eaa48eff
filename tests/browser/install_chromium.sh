#!/usr/bin/env bash
# Make sure Chromium is there for the browser tests: Debian's package, installed with apt-get when
# it is missing and we are root; otherwise say how to install it. (Never `playwright install`: it
# downloads its own browser from the internet.)
set -euo pipefail
if [ -n "${CHROMIUM:-}" ] && [ -x "$CHROMIUM" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium with apt-get (about a minute)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || {
        apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null
    }
    command -v chromium >/dev/null && exit 0
fi
echo "Chromium is missing. Install it with 'sudo apt-get install chromium' (Debian/Ubuntu)," >&2
echo "or point CHROMIUM at a Chromium/Chrome executable, then run 'make test-browser' again." >&2
exit 1
