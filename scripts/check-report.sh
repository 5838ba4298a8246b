#!/usr/bin/env bash
# Renders a TorchLabs report (DIR/index.html) in headless Chromium and fails when any image did not load.
# Usage: scripts/check-report.sh [DIR] [SCREENSHOT.png]
# Needs Debian's chromium package (apt-get install chromium). Writes the screenshot (default DIR/../report-screenshot.png).
set -euo pipefail
dir=${1:-report}
html="$dir/index.html"
if [[ ! -f "$html" ]]; then
  echo "check-report: $html: no such file; expected a report written by 'torchlabs all --out $dir'" >&2
  exit 2
fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$browser" ]]; then
  echo "check-report: chromium not found; install it with 'apt-get install chromium'" >&2
  exit 2
fi
abs=$(cd "$dir" && pwd)/index.html
shot=${2:-$(cd "$dir/.." && pwd)/report-screenshot.png}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile" --allow-file-access-from-files
       --virtual-time-budget=10000)

dom=$("$browser" "${flags[@]}" --dump-dom "file://$abs" 2>/dev/null)
expected=$(grep -o '<img ' "$html" | wc -l)
loaded=$(grep -o 'data-images-loaded="[0-9]*"' <<<"$dom" | grep -o '[0-9]*' || true)
broken=$(grep -o 'data-images-broken="[^"]*"' <<<"$dom" | sed 's/.*="\(.*\)"/\1/' || true)
if [[ -z "$loaded" ]]; then
  echo "check-report: $html: the page's load check did not run in Chromium" >&2
  exit 1
fi
if [[ -n "$broken" || "$loaded" != "$expected" ]]; then
  echo "check-report: $html: $loaded of $expected images loaded; broken: ${broken:-?}" >&2
  exit 1
fi
# The verdict block: present, and every lab in it links to a section that exists.
if ! grep -q '<section id="verdicts">' <<<"$dom"; then
  echo "check-report: $html: no verdict block (section#verdicts)" >&2
  exit 1
fi
verdicts=$(sed -n '/<section id="verdicts">/,/<\/section>/p' <<<"$dom")
links=$(grep -o 'href="#[^"]*"' <<<"$verdicts" | sed 's/href="#\(.*\)"/\1/' | sort -u)
if [[ -z "$links" ]]; then
  echo "check-report: $html: the verdict block lists no lab" >&2
  exit 1
fi
for id in $links; do
  if ! grep -q "<section id=\"$id\"" <<<"$dom"; then
    echo "check-report: $html: the verdict block links to #$id, but there is no such section" >&2
    exit 1
  fi
done
"$browser" "${flags[@]}" --window-size=1200,2400 --screenshot="$shot" "file://$abs" >/dev/null 2>&1
if [[ ! -s "$shot" ]]; then
  echo "check-report: Chromium wrote no screenshot to $shot" >&2
  exit 1
fi
echo "check-report: $html: all $loaded images loaded in Chromium; verdict block links $(wc -w <<<"$links") labs to their sections; screenshot $shot"
