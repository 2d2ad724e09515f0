#!/usr/bin/env bash
# Install the Debian packages the app and its tests need, only those that are missing:
# WeasyPrint's Pango and HarfBuzz, fonts, poppler (PDF to text/PNG), Chromium (browser tests),
# LibreOffice Calc (re-saving spreadsheets in tests), Node.js and npm (front-end assets).
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils chromium nodejs npm)
[ "${PSIS_WITH_LIBREOFFICE:-1}" = 1 ] && packages+=(libreoffice-calc-nogui)
missing=()
for p in "${packages[@]}"; do
  # npm may come with nodejs from another source: accept any working npm.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing system packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
