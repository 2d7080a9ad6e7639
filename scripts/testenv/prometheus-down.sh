#!/usr/bin/env bash
# prometheus-down.sh: stop the Prometheus that prometheus-up.sh started (by
# its PID file; nothing else is touched).
#
# Usage: prometheus-down.sh [--purge]
#   --purge  also delete ${SCMON_TESTENV_DIR:-/tmp/scmon-testenv}/prometheus.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

dir="$TESTENV_DIR/prometheus"
stop_pidfile "$dir/prometheus.pid" "$dir/prometheus.yml" 20
rm -f "$dir/env.sh"
if [[ "${1:-}" == "--purge" ]]; then
	rm -rf "$dir"
fi
