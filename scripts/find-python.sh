#!/usr/bin/env bash
# Print the path of a Python >= 3.12 (Django 6 needs it), or explain what to install.
set -euo pipefail
candidates=(python3.13 python3.12 python3)
for v in 3.13.0 3.12.1; do candidates+=("$HOME/.pyenv/versions/$v/bin/python3"); done
if command -v pyenv >/dev/null 2>&1; then
  while read -r v; do candidates+=("$(pyenv root)/versions/$v/bin/python3"); done < <(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[2-9]' | sort -rV)
fi
for py in "${candidates[@]}"; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    command -v "$py"
    exit 0
  fi
done
echo "PSIS Monitor needs Python 3.12 or newer and none was found." >&2
echo "Install one: Debian trixie 'apt-get install python3 python3-venv', Ubuntu 24.04 'apt-get install python3.12 python3.12-venv', or 'pyenv install 3.13'." >&2
exit 1
