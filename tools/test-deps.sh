#!/bin/sh
# What `make test` needs beyond the Python packages: Debian's Chromium for the browser
# tests (Playwright drives it; it never downloads a browser of its own) and fonts for it;
# caddy, to validate the deployment guide's Caddyfile.
# As root on Debian, missing packages are installed with apt-get; otherwise one line
# says what to install, and the run stops.
set -eu

missing=""
if [ -z "${VOORTGANG_TEST_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  missing="$missing chromium"
fi
if [ ! -d /usr/share/fonts/truetype/liberation ] && [ ! -d /usr/share/fonts/truetype/liberation2 ]; then
  missing="$missing fonts-liberation"
fi
command -v caddy >/dev/null 2>&1 || missing="$missing caddy"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing for the browser tests:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
  exit 0
fi
echo "make test needs:$missing (Debian: sudo apt-get install$missing; or set VOORTGANG_TEST_CHROMIUM to a Chromium binary)" >&2
exit 1
