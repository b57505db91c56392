#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install sahel-sim into it (editable).
#
# Usage: bash scripts/setup.sh [EXTRAS]     e.g. bash scripts/setup.sh dev,dashboard,experiments
# The interpreter: $PYTHON if set, else pyenv's 3.12 or 3.13, else python3.12/python3.13/python3
# if it is 3.12 or newer. Idempotent: an existing .venv is reused.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
extras="${1:-}"

is_new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }

find_python() {
    local candidates=()
    [[ -n "${PYTHON:-}" ]] && candidates+=("$PYTHON")
    for root in "${PYENV_ROOT:-$HOME/.pyenv}" /root/.pyenv; do
        for v in "$root"/versions/3.12* "$root"/versions/3.13*; do
            [[ -x "$v/bin/python" ]] && candidates+=("$v/bin/python")
        done
    done
    candidates+=(python3.12 python3.13 python3)
    for py in "${candidates[@]}"; do
        if command -v "$py" >/dev/null 2>&1 && is_new_enough "$py"; then
            echo "$py"; return 0
        fi
    done
    return 1
}

if [[ ! -x .venv/bin/python ]] || ! is_new_enough .venv/bin/python; then
    py="$(find_python)" || {
        echo "setup: sahel-sim needs Python >= 3.12 (mesa 3.5 does); install it (e.g. pyenv install 3.12) or set PYTHON" >&2
        exit 2
    }
    echo "setup: creating .venv with $("$py" --version)"
    rm -rf .venv
    "$py" -m venv .venv
fi
spec="."
[[ -n "$extras" ]] && spec=".[$extras]"
echo "setup: pip install -e \"$spec\""
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
echo "setup: ready ($(.venv/bin/python --version), sahel-sim $(.venv/bin/python -c 'import sim; print(sim.__version__)'))"
