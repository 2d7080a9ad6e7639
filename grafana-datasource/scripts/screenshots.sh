#!/usr/bin/env bash
# screenshots.sh: photograph the editors for the plugin catalog. Builds
# the harness page (harness/), which renders the query editor (figures
# and jobs) and the configuration editor with the real @grafana/ui
# components, and takes a screenshot of each in headless Chromium
# (Debian's chromium) into img/screenshots/. Needs node_modules (npm ci).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
chromium=${CHROMIUM:-$(command -v chromium || true)}
[[ -n "$chromium" ]] || { echo "screenshots.sh: chromium not found (apt-get install chromium)" >&2; exit 1; }

npx webpack -c ./harness/webpack.config.ts
out=img/screenshots
mkdir -p "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
shoot() { # view width height
	"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
		--disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars \
		--window-size="$2,$3" --virtual-time-budget=5000 \
		--screenshot="$PWD/$out/$1.png" "file://$PWD/harness/build/index.html#$1" 2>/dev/null
	test -s "$out/$1.png" || { echo "screenshots.sh: no $out/$1.png" >&2; exit 1; }
	echo "$out/$1.png"
}
shoot figures 1280 420
shoot jobs 1280 300
shoot config 1280 1460
