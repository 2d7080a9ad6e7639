#!/usr/bin/env bash
# The whole test suite, as CI runs it (`make test`): formatting, vet,
# staticcheck, then every Go test of every module with the race detector,
# against real components that this script installs (Debian packages) and
# starts (a Slurm cluster with slurmdbd and MariaDB, PostgreSQL; tests start
# their own Prometheus). Tests that need a component fail, not skip, here.
# Needs root (apt-get, runuser) on Debian 12. Leaves nothing running.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
export PATH="/usr/local/go/bin:$(go env GOPATH)/bin:$PATH"

bash scripts/testenv/install.sh --if-needed
trap 'bash scripts/testenv/down.sh >/dev/null 2>&1 || true' EXIT
bash scripts/testenv/up.sh

state="${SCMON_TESTENV_DIR:-/tmp/scmon-testenv}"
# shellcheck disable=SC1091
. "$state/postgres/env.sh"
export SCMON_TEST_SLURM_ENV="$state/slurm/env.sh"
export SCMON_TEST_REQUIRE_SLURM=1 SCMON_TEST_REQUIRE_POSTGRES=1 SCMON_TEST_REQUIRE_TOOLS=1

make check
# The end-to-end tests compare scmon with sacct and sreport over the live
# cluster: they run alone, after the packages whose tests also submit jobs.
go test -race -count=1 -timeout 40m $(go list ./... | grep -v -e /test/e2e -e /classify/heldout)
# The held-out evaluation classifies a generated center once per family: a
# single-goroutine computation that the race detector would only slow down.
go test -count=1 -timeout 20m ./classify/heldout/...
go test -race -count=1 -timeout 40m ./test/e2e/...
# Every fuzz target briefly: its seeds and a few seconds of new inputs.
bash scripts/fuzz.sh 5
for mod in dashboards grafana-datasource; do
	if [[ -f "$mod/go.mod" ]]; then
		(cd "$mod" && go vet ./... && go test -race -count=1 -timeout 20m ./...)
	fi
done
bash grafana-datasource/scripts/test-frontend.sh
echo "scripts/test.sh: all tests passed in $(( $(date +%s) - start )) s"
