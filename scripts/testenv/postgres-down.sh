#!/usr/bin/env bash
# postgres-down.sh: stop the PostgreSQL that postgres-up.sh started (fast
# shutdown, SIGINT, by its PID file: open client sessions are disconnected).
#
# Usage: postgres-down.sh [--purge]
#   --purge  also delete ${SCMON_TESTENV_DIR:-/tmp/scmon-testenv}/postgres
#            (the cluster and its data); without it the next postgres-up.sh
#            reuses the data.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

dir="$TESTENV_DIR/postgres"
stop_pidfile "$dir/postgres.pid" "$dir/data" 30 INT
if [[ "${1:-}" == "--purge" ]]; then
	rm -rf "$dir"
fi
