#!/usr/bin/env bash
# test-frontend.sh: the checks of the data source's browser half, as
# `make test` runs them: a clean install from package-lock.json (npm ci),
# the production build (dist/module.js), type checking (tsc --noEmit),
# lint (eslint) and the Jest tests of the editors. Needs Node.js 18 or
# newer with npm (scripts/testenv/install.sh installs Debian's when the
# machine has none) and the npm registry.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
start=$(date +%s)

for bin in node npm; do
	command -v "$bin" >/dev/null || { echo "test-frontend.sh: $bin not found (scripts/testenv/install.sh installs it)" >&2; exit 1; }
done
major=$(node -p 'process.versions.node.split(".")[0]')
if (( major < 18 )); then
	echo "test-frontend.sh: Node.js $(node --version) is too old: want 18 or newer" >&2
	exit 1
fi
echo "test-frontend.sh: node $(node --version), npm $(npm --version)"

step() {
	local t=$(date +%s)
	echo "--- $*"
	"$@"
	echo "--- $* took $(( $(date +%s) - t )) s"
}

step npm ci --no-audit --no-fund --prefer-offline
step npm run build
test -s dist/module.js || { echo "test-frontend.sh: dist/module.js was not built" >&2; exit 1; }
echo "dist/module.js: $(wc -c <dist/module.js) bytes"
step npm run typecheck
step npm run lint
step npm run test:ci
echo "test-frontend.sh: frontend built, linted and tested in $(( $(date +%s) - start )) s"
