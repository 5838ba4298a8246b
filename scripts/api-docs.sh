#!/usr/bin/env bash
# Builds the API reference of TorchLabs.GradCheck with docfx (a local dotnet tool: dotnet tool restore), warnings as
# errors, into docs/api/_site; then opens its pages in headless Chromium and checks that they and every link between
# them load. Usage: scripts/api-docs.sh [--no-check]. Needs Debian's chromium for the check.
set -euo pipefail
cd "$(dirname "$0")/.."
site=docs/api/_site
start=$(date +%s)
dotnet tool restore >/dev/null
rm -rf docs/api/reference "$site"
dotnet docfx metadata docs/api/docfx.json --warningsAsErrors
dotnet docfx build docs/api/docfx.json --warningsAsErrors
echo "api-docs: built $site in $(( $(date +%s) - start )) s"
[[ "${1:-}" == "--no-check" ]] && exit 0

browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  echo "api-docs: chromium not found; install it with 'apt-get install chromium'" >&2
  exit 2
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile" --allow-file-access-from-files
       --virtual-time-budget=10000)
root=$(cd "$site" && pwd)
pages=0 links=0
while IFS= read -r page; do
  dom=$("$browser" "${flags[@]}" --dump-dom "file://$root/$page" 2>/dev/null)
  # The page rendered: docfx's article body is there, with a heading.
  if ! grep -q '<article' <<<"$dom" || ! grep -q '<h1' <<<"$dom"; then
    echo "api-docs: $site/$page did not render in Chromium (no article or heading)" >&2
    exit 1
  fi
  pages=$((pages + 1))
  # Every link to another page of the site points at a file that exists.
  dir=$(dirname "$root/$page")
  while IFS= read -r href; do
    target=${href%%#*}
    [[ -z "$target" ]] && continue
    if [[ "$target" == file://* ]]; then file=${target#file://}; else file="$dir/$target"; fi
    if [[ ! -f "$file" ]]; then
      echo "api-docs: $site/$page links to $href, which is not in the site" >&2
      exit 1
    fi
    links=$((links + 1))
  done < <(grep -o 'href="[^"]*"' <<<"$dom" | sed 's/href="\(.*\)"/\1/' | grep -vE '^(https?:|mailto:|#|javascript:|data:)' \
             | grep -E '\.html(#.*)?$' | sort -u)
done < <(cd "$root" && find . -name '*.html' ! -name 'toc.html' | sed 's|^\./||' | sort)
if (( pages < 10 )); then
  echo "api-docs: only $pages pages in $site; expected the guide, the examples and every public type" >&2
  exit 1
fi
echo "api-docs: $pages pages loaded in Chromium; $links links between them all resolve"
