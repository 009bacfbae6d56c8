#!/usr/bin/env bash
# Make sure Debian's Chromium (and its driver) are there for the browser tests.
# Installs `chromium` and `chromium-driver` when /usr/bin/chromium is missing and apt-get can
# be used (as root); otherwise prints a notice and exits 0. The browser tests then skip, except
# under CI=true, where they fail.
set -uo pipefail
# Chinese text needs a CJK font, or screenshots and charts show empty boxes (DESIGN §5).
if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/wqy ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "NOTICE: no /usr/bin/chromium and no apt-get as root to install it; browser tests will be skipped (under CI=true they fail)" >&2
  exit 0
fi
echo "installing Debian's chromium, chromium-driver and a CJK font for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
install_chromium() {
  apt-get install -y -q --no-install-recommends chromium chromium-driver fonts-wqy-microhei >&2
}
if ! install_chromium; then
  apt-get update -q >&2 && install_chromium || true
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "NOTICE: could not install chromium; browser tests will be skipped (under CI=true they fail)" >&2
fi
exit 0
