#!/usr/bin/env bash
# Install what the dashboard's browser tests need, then fill Solara's asset cache.
#
#   - Debian's chromium (Playwright drives it via executable_path=/usr/bin/chromium; the
#     `playwright install` download cannot work on this network) and fonts for readable
#     screenshots;
#   - npm, if missing (.ci/solara_assets.sh uses `npm pack`);
#   - the Solara CDN asset cache (bash .ci/solara_assets.sh [CACHE_DIR]).
#
# Idempotent: apt runs only for packages that are not installed yet.
# Usage: bash .ci/install_browser.sh [CACHE_DIR]   (CACHE_DIR is passed to solara_assets.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

packages=(chromium fonts-dejavu-core)
command -v npm >/dev/null || packages+=(npm)

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]})); then
    sudo=()
    if [[ "$(id -u)" != 0 ]]; then
        command -v sudo >/dev/null || { echo "install_browser: need root for apt-get" >&2; exit 1; }
        sudo=(sudo)
    fi
    echo "install_browser: apt-get install ${missing[*]}"
    start=$(date +%s)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        "${missing[@]}" >/dev/null
    echo "install_browser: apt done in $(($(date +%s) - start)) s"
else
    echo "install_browser: already installed: ${packages[*]}"
fi

# the chromium wrapper script prints a harmless shell warning on stderr here; keep stdout only
echo "install_browser: $(/usr/bin/chromium --version 2>/dev/null)"
bash "$here/solara_assets.sh" "$@"
