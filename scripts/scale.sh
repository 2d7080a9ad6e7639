#!/usr/bin/env bash
# scale.sh: measure what the README's "Scale" section states and print it:
# series and scrape time of one scmon (the sample center and a bigger
# generated one, with and without the account label), the backfill rate
# into VictoriaMetrics and its bytes per sample, and the arithmetic of a
# central store for many centers. Needs victoria-metrics (Debian package;
# scripts/testenv/install.sh installs it). Takes about two minutes.
set -euo pipefail
cd "$(dirname "$0")/../dashboards"
SCMON_SCALE=1 go test -count=1 -run '^TestScale$' -v -timeout 20m . |
	grep -E '^\s+scale_test\.go:[0-9]+: ' | sed -E 's/^\s+scale_test\.go:[0-9]+: //'
