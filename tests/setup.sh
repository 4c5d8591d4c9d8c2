#!/usr/bin/env bash
# Install what the tests need on a fresh machine: the Python test packages, and Debian's Chromium
# for the browser tests (Playwright's own browser download cannot work without the internet).
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -q -r requirements-test.txt
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi
command -v chromium >/dev/null || { echo "chromium is missing: the browser tests cannot run" >&2; exit 1; }
