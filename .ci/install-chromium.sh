#!/usr/bin/env bash
# Installs Debian's chromium for the browser test (test/browser) when it is
# missing, then checks that it runs. No browser download: only the
# distribution's package. Run it as root (CI) or with sudo available.
#
#   .ci/install-chromium.sh && export SIGNET_CHROMIUM=/usr/bin/chromium
set -euo pipefail

bin=/usr/bin/chromium
fail() { echo "install-chromium: FAIL: $*" >&2; exit 1; }

if [ ! -x "$bin" ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "$bin is missing and this is not root (and there is no sudo) to install it"
    sudo="sudo"
  fi
  echo "install-chromium: $bin is missing, installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq || fail "apt-get update failed"
  $sudo apt-get install -y -qq chromium >/dev/null || fail "apt-get install chromium failed"
  [ -x "$bin" ] || fail "apt-get install chromium succeeded but $bin is still missing"
fi

# The Debian wrapper prints a harmless shell warning about /dev/shm on some
# hosts; only the exit status and the version line matter.
version=$("$bin" --version 2>/dev/null) || fail "'$bin --version' failed"
case "$version" in
  Chromium\ *) echo "install-chromium: $version" ;;
  *) fail "'$bin --version' printed an unexpected line: $version" ;;
esac
