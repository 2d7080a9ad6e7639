#!/usr/bin/env bash
# up.sh: bring up the whole scmon end-to-end test environment: install the
# Debian packages if any is missing (install.sh --if-needed), then start the
# Slurm cluster (slurm-up.sh) and PostgreSQL (postgres-up.sh). Prometheus is
# not started here: each test starts its own against its own target with
# prometheus-up.sh. Afterwards a test sources
#   ${SCMON_TESTENV_DIR:-/tmp/scmon-testenv}/slurm/env.sh
#   ${SCMON_TESTENV_DIR:-/tmp/scmon-testenv}/postgres/env.sh
# Idempotent: whatever is already running is left alone. Stop with down.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

start="$(now_ms)"
"$TESTENV_SCRIPTS/install.sh" --if-needed
"$TESTENV_SCRIPTS/slurm-up.sh"
"$TESTENV_SCRIPTS/postgres-up.sh"
log "test environment up in $(elapsed "$start") s; source $SLURM_DIR/env.sh and $TESTENV_DIR/postgres/env.sh"
