#!/usr/bin/env bash
# Set up everything the tests need and run them.
#
# Usage: bash scripts/test.sh [--slow] [PYTEST ARGS...]
#   default: ruff, then every test not marked slow (about 10 minutes at most on 2 cores);
#   --slow:  only the tests marked slow (ensembles, Dask clusters).
# Browser tests need Debian's chromium and Solara's front-end files from npm: installed here
# when apt-get can be used (root or sudo); otherwise they are skipped with the reason.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
marker=(-m "not slow")
if [[ "${1:-}" == "--slow" ]]; then marker=(-m slow); shift; fi

bash scripts/setup.sh dev,dashboard,experiments,discovery,calibrate,scoring
export SOLARA_ASSETS_PROXY_CACHE_DIR="${SOLARA_ASSETS_PROXY_CACHE_DIR:-$HOME/.cache/sahel-sim/solara-assets}"
if [[ "$(id -u)" == 0 ]] || command -v sudo >/dev/null 2>&1; then
    bash .ci/install_browser.sh "$SOLARA_ASSETS_PROXY_CACHE_DIR"
else
    echo "test: no root: browser tests will be skipped (run .ci/install_browser.sh as root)"
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "${marker[@]}" "$@"
