#!/usr/bin/env bash
# down.sh: stop everything the testenv scripts started, in order: Prometheus
# (it may be scraping an exporter), PostgreSQL, then the Slurm cluster
# (jobs, slurmd, slurmctld, slurmdbd, MariaDB, munge). Only processes recorded
# in the scripts' PID files are stopped. Safe to run when nothing is up.
#
# Usage: down.sh [--purge]
#   --purge  also delete the state directory
#            ${SCMON_TESTENV_DIR:-/tmp/scmon-testenv} (databases, logs, keys).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

args=()
[[ "${1:-}" == "--purge" ]] && args=(--purge)
start="$(now_ms)"
"$TESTENV_SCRIPTS/prometheus-down.sh" "${args[@]}"
"$TESTENV_SCRIPTS/postgres-down.sh" "${args[@]}"
"$TESTENV_SCRIPTS/slurm-down.sh" "${args[@]}"
if [[ ${#args[@]} -gt 0 && -d "$TESTENV_DIR" ]]; then
	rmdir "$TESTENV_DIR" 2>/dev/null || log "left $TESTENV_DIR (it holds files these scripts did not make)"
fi
log "test environment down in $(elapsed "$start") s"
