#!/usr/bin/env bash
# Fill Solara's CDN proxy cache from the npm registry, so that the dashboard works offline.
#
# Solara's server serves its front-end (Vue/Vuetify bundle, requirejs, font-awesome, and, on
# demand, vega/vega-lite/vega-embed, katex, mermaid, vue-grid-layout, ...) under /_solara/cdn/<p>
# and, when <p> is not in its proxy cache, fetches https://cdn.jsdelivr.net/npm/<p>, which is
# not reachable here. The cache directory is the env var SOLARA_ASSETS_PROXY_CACHE_DIR (pydantic
# setting `proxy_cache_dir` of solara.server.settings.Assets, env prefix "solara_assets_"); it is
# laid out like jsdelivr's npm paths:
#     <cache>/<name>@<version-or-range>/<file inside the npm tarball's package/ directory>
#     e.g. <cache>/@widgetti/solara-vuetify-app@10.1.1/dist/solara-vuetify-app8.min.js
#          <cache>/vega@5/build/vega.min.js     (solara asks for the range; npm resolves it)
#
# The list of packages is read at run time from the *installed* solara (its templates, .vue and
# .py files and its settings), not hard-coded. Idempotent: a package directory that is already
# present is skipped (each is unpacked in a temp dir and moved into place whole).
#
# Usage: bash .ci/solara_assets.sh [CACHE_DIR]
#   CACHE_DIR defaults to $SOLARA_ASSETS_PROXY_CACHE_DIR, else $HOME/.cache/sahel-sim/solara-assets.
#   PYTHON overrides the interpreter (default: the repo's .venv/bin/python, else python3).
#   SOLARA_ASSETS_ALL=1 also fetches the assets of the Vue-3 template (only used with ipyvue 3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${1:-${SOLARA_ASSETS_PROXY_CACHE_DIR:-$HOME/.cache/sahel-sim/solara-assets}}"

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$repo/.venv/bin/python" ]]; then PYTHON="$repo/.venv/bin/python"; else PYTHON=python3; fi
fi
command -v npm >/dev/null || { echo "solara_assets: npm is required (apt-get install -y npm)" >&2; exit 1; }
command -v tar >/dev/null || { echo "solara_assets: tar is required" >&2; exit 1; }

start=$(date +%s)
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

# Prints one line per needed package: "<cache dir name>\t<npm spec>\t<where solara asks for it>".
list="$(
    SOLARA_ASSETS_ALL="${SOLARA_ASSETS_ALL:-0}" "$PYTHON" - <<'PY'
import importlib.metadata as md
import os
import pathlib
import re
import sys

try:
    import solara
except ImportError as e:
    sys.exit(f"solara_assets: cannot import solara with {sys.executable}: {e}")

root = pathlib.Path(solara.__file__).parent
version = solara.__version__
ipyvue_major = md.version("ipyvue").split(".")[0]
want_all = os.environ.get("SOLARA_ASSETS_ALL", "0") not in ("", "0", "false")

# how solara writes a cdn url: jinja {{cdn}}, JS ${this.getCdn()} / ${cdn}
prefix = r"(?:\{\{\s*cdn\s*\}\}|\$\{\s*this\.getCdn\(\)\s*\}|\$\{\s*cdn\s*\})"
name = r"(?:@[A-Za-z0-9._-]+/)?[A-Za-z0-9._-]+"
spec = r"(?:[A-Za-z0-9._~^*+-]+|\$\{\s*\w+\s*\})"
url_re = re.compile(rf"{prefix}/({name})@({spec})/")
found: dict[str, tuple[str, str]] = {}
unresolved = []
for path in sorted(root.rglob("*")):
    rel = path.relative_to(root)
    if not path.is_file() or path.suffix not in {".py", ".vue", ".js", ".j2", ".html"}:
        continue
    if rel.parts[0] in {"website", "__pycache__"}:  # solara's own docs site: not served by apps
        continue
    text = path.read_text(encoding="utf-8", errors="replace")
    for m in url_re.finditer(text):
        pkg, ver = m.group(1), m.group(2)
        var = re.fullmatch(r"\$\{\s*(\w+)\s*\}", ver)
        if var:  # e.g. `const version = "5.4.0";` in the same file
            d = re.search(rf"(?:const|let|var)\s+{var.group(1)}\s*=\s*[\"']([^\"']+)[\"']", text)
            if not d:
                unresolved.append(f"{rel}: {m.group(0)}")
                continue
            ver = d.group(1)
        found.setdefault(f"{pkg}@{ver}", (f"{pkg}@{ver}", str(rel)))

# font-awesome: {{cdn}}{{assets.fontawesome_path}}, a setting (SOLARA_ASSETS_FONTAWESOME_PATH)
from solara.server import settings  # noqa: E402

if settings.assets.fontawesome_enabled:
    m = re.match(rf"/?({name})@({spec})/", settings.assets.fontawesome_path)
    if not m:
        sys.exit(f"solara_assets: cannot parse fontawesome_path {settings.assets.fontawesome_path!r}")
    found.setdefault(f"{m.group(1)}@{m.group(2)}", (f"{m.group(1)}@{m.group(2)}", "server/settings.py"))

if unresolved:
    sys.exit("solara_assets: cannot resolve cdn versions in solara " + version + ":\n  "
             + "\n  ".join(unresolved))
# solara's page template picks one of these by ipyvue's major version (solara/server/server.py)
core = "@widgetti/solara-vuetify3-app" if ipyvue_major == "3" else "@widgetti/solara-vuetify-app"
other = "@widgetti/solara-vuetify-app" if ipyvue_major == "3" else "@widgetti/solara-vuetify3-app"
names = {k.rsplit("@", 1)[0] for k in found}
missing = [p for p in (core, "requirejs") if p not in names]
if missing:
    sys.exit(f"solara_assets: found no cdn url for {missing} in solara {version} ({root}); "
             "its layout changed: update .ci/solara_assets.sh")
print(f"# solara {version}, ipyvue {md.version('ipyvue')}, solara package at {root}",
      file=sys.stderr)
for key in sorted(found):
    if not want_all and key.rsplit("@", 1)[0] == other:
        continue
    npm_spec, src = found[key]
    print(f"{key}\t{npm_spec}\t{src}")
PY
)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fetched=0
skipped=0
while IFS=$'\t' read -r dir spec src; do
    [[ -n "$dir" ]] || continue
    dest="$cache/$dir"
    if [[ -f "$dest/package.json" ]]; then
        echo "solara_assets: present  $dir  (used by solara/$src)"
        skipped=$((skipped + 1))
        continue
    fi
    echo "solara_assets: fetching $spec  (used by solara/$src)"
    work="$tmp/$((fetched + skipped))"
    mkdir -p "$work/unpack"
    tgz="$(cd "$work" && npm pack --silent --pack-destination "$work" "$spec" | tail -n 1)"
    [[ -f "$work/$tgz" ]] || { echo "solara_assets: npm pack $spec produced no tarball" >&2; exit 1; }
    tar -xzf "$work/$tgz" -C "$work/unpack" --no-same-owner
    [[ -f "$work/unpack/package/package.json" ]] || {
        echo "solara_assets: $tgz has no package/package.json" >&2; exit 1; }
    resolved="$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
        "$work/unpack/package/package.json")"
    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest.partial" "$dest"  # "$dest" without package.json: an incomplete copy
    mv "$work/unpack/package" "$dest.partial"
    mv -T "$dest.partial" "$dest"
    echo "solara_assets:          -> $dest  (npm version $resolved, $(du -sh "$dest" | cut -f1))"
    fetched=$((fetched + 1))
done <<<"$list"

echo "solara_assets: cache $cache: $fetched fetched, $skipped already present," \
    "$(($(date +%s) - start)) s"
echo "solara_assets: use it with: export SOLARA_ASSETS_PROXY_CACHE_DIR=$cache"
