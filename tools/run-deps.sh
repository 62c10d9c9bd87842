#!/bin/sh
# What `make run` needs beyond the Python packages: Debian's pango, which WeasyPrint
# renders the PDF documents with, and a font for them. As root on Debian, missing
# packages are installed with apt-get; otherwise one line says what to install (the app
# runs without them, but its PDF documents answer an error until they are there).
set -eu
missing=""
if ! { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q 'libpangoft2-1.0.so.0'; then
  missing="$missing libpango-1.0-0 libpangoft2-1.0-0"
fi
if [ ! -d /usr/share/fonts/truetype/liberation ] && [ ! -d /usr/share/fonts/truetype/liberation2 ] \
   && [ ! -d /usr/share/fonts/truetype/dejavu ]; then
  missing="$missing fonts-liberation"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing for the PDF documents:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "The PDF documents need:$missing (Debian: sudo apt-get install$missing)" >&2
fi
