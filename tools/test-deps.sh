#!/bin/sh
# What `make test` needs beyond the Python packages:
# - Debian's Chromium and fonts, for the browser tests (Playwright drives it; it never
#   downloads a browser of its own);
# - pango, which WeasyPrint renders the PDF documents with (an app dependency too);
# - caddy, to validate the deployment guide's Caddyfile;
# - Java and the W3C Nu HTML checker (npm package vnu-jar, into .venv/vnu), for the
#   HTML test.
# As root on Debian, missing packages are installed with apt-get; otherwise one line
# says what to install, and the run stops.
set -eu
VNU_VERSION=26.9.27
VNU_JAR=.venv/vnu/node_modules/vnu-jar/build/dist/vnu.jar

missing=""
if [ -z "${VOORTGANG_TEST_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  missing="$missing chromium"
fi
if [ ! -d /usr/share/fonts/truetype/liberation ] && [ ! -d /usr/share/fonts/truetype/liberation2 ]; then
  missing="$missing fonts-liberation"
fi
if ! { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q 'libpangoft2-1.0.so.0'; then
  missing="$missing libpango-1.0-0 libpangoft2-1.0-0"
fi
command -v caddy >/dev/null 2>&1 || missing="$missing caddy"
command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless"
if [ -z "${VOORTGANG_TEST_VNU:-}" ] && [ ! -f "$VNU_JAR" ]; then
  command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi

if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing for the tests:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "make test needs:$missing (Debian: sudo apt-get install$missing; or set VOORTGANG_TEST_CHROMIUM to a Chromium binary)" >&2
    exit 1
  fi
fi

if [ -z "${VOORTGANG_TEST_VNU:-}" ] && [ ! -f "$VNU_JAR" ]; then
  echo "Installing the Nu HTML checker (vnu-jar $VNU_VERSION) into .venv/vnu"
  npm install --silent --no-audit --no-fund --prefix .venv/vnu "vnu-jar@$VNU_VERSION" >/dev/null
fi
