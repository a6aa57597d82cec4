#!/bin/sh
# Makes Debian's Chromium available for the Web UI browser test. playwright-core drives it; Playwright's own
# browser download cannot reach its CDN from these machines, and Debian's package is what a person here would use.
# Prints the browser's path on stdout; everything else goes to stderr so a caller can capture the path.
set -eu

if [ -n "${LEADSYNC_CHROMIUM:-}" ]; then
  echo "$LEADSYNC_CHROMIUM"
  exit 0
fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then
    echo "$candidate"
    exit 0
  fi
done

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no Chromium found and no apt-get to install it; set LEADSYNC_CHROMIUM to a Chromium binary" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "ensure-chromium: installing Chromium needs root; run 'apt-get install -y chromium' as root" >&2
    exit 1
  fi
  SUDO="sudo -n"
fi

echo "ensure-chromium: installing Debian's chromium package (apt-get install -y chromium) for the Web UI test" >&2
# Package lists may be missing or stale on a fresh machine: refresh once, then install.
$SUDO apt-get update >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium >&2
echo /usr/bin/chromium
