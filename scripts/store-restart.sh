#!/usr/bin/env bash
# store-restart.sh: measure a daemon's restart on a large SQLite store.
# It builds a store of N synthetic jobs (default 10,000,000; the jobstore
# package's BenchmarkImport, which prints the import rate and bytes per job),
# then the store's own load in a fresh process (BenchmarkRebuild: seconds,
# CPU seconds, peak RSS), then starts `scmon serve` on it and prints the
# seconds until /-/ready answers 200, with the daemon's CPU time and peak
# RSS. Needs about 110 bytes of disk per job in $TMPDIR.
#
#   scripts/store-restart.sh [N]
set -euo pipefail
n=${1:-10000000}
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/data"
echo "== import of $n jobs"
SCMON_JOBSTORE_BENCH_JOBS=$n SCMON_JOBSTORE_BENCH_KEEP="$dir/data" \
	go test ./jobstore -run '^$' -bench 'Import/sqlite$' -benchtime 1x -timeout 0 | grep '^Benchmark'
echo "== store load (open, scan, engine)"
SCMON_JOBSTORE_REBUILD_STORE="$dir/data/scmon.db" \
	go test ./jobstore -run '^$' -bench 'Rebuild/sqlite$' -benchtime 1x -timeout 0 | grep '^Benchmark'
echo "== scmon serve until /-/ready"
go build -o "$dir/scmon" ./cmd/scmon
: >"$dir/empty.psv"
cat >"$dir/scmon.yaml" <<YAML
cluster: sample
data_dir: $dir/data
sources:
  - {name: history, kind: dump, format: slurm-sacct, paths: [$dir/empty.psv]}
YAML
port=$((20000 + RANDOM % 20000))
start=$(date +%s.%N)
/usr/bin/time -v -o "$dir/time.txt" "$dir/scmon" serve --config.file "$dir/scmon.yaml" \
	--web.listen-address "127.0.0.1:$port" >"$dir/serve.log" 2>&1 &
pid=$!
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/-/ready")" = 200 ]; do
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$dir/serve.log" >&2
		exit 1
	fi
	sleep 0.2
done
end=$(date +%s.%N)
# time(1) waits for scmon, which the interrupt stops.
kill -INT "$(pgrep -P "$pid")"
wait "$pid" || true
pid=
echo "ready after $(echo "$end - $start" | bc) s"
grep -E 'job store loaded|reclassified' "$dir/serve.log" | sed -E 's/^time=[^ ]+ //'
grep -E 'User time|System time|Maximum resident' "$dir/time.txt"
