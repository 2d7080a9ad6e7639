#!/usr/bin/env bash
# bench-peers.sh: run the same sacct dumps through `scmon report`, pandas
# and DuckDB side by side, check that the three give the same figures, and
# write a table of wall time, CPU time, peak memory and the ratios
# scmon/pandas and scmon/DuckDB (median of RUNS alternating runs).
#
# The dumps replicate the built-in sample log (bench/gendump): 100k
# allocations and 1M with their step lines, 10M allocation lines only. The
# figures compared: allocated core-seconds of the sample's 30-day window,
# in all and by class (rules in bench/peers/rules.yaml, which the peers
# apply as regular expressions), utilization and AI share of cores.
#
# Usage: scripts/bench-peers.sh [-s SIZES] [-n RUNS] [-o FILE] [--no-readme]
#   -s  comma-separated sizes among 100k, 1m, 10m (default: 100k,1m)
#   -n  runs per tool and size (default: 3)
#   -o  where the table goes (default: bench/peers/results.md); it is also
#       spliced into README.md between the bench-peers markers unless
#       --no-readme is given
# BENCH_DIR (default /tmp/scmon-bench-peers) holds the dumps (about 3 GB
# at 10m) and binaries; SCMON names an scmon binary to measure instead of
# building this tree's. pandas is Debian's python3-pandas, installed with
# apt-get when missing; DuckDB is the Go module of bench/peers/duckdb.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

sizes=100k,1m
runs=3
out=bench/peers/results.md
readme=1
while [ $# -gt 0 ]; do
	case "$1" in
	-s) sizes=$2; shift 2 ;;
	-n) runs=$2; shift 2 ;;
	-o) out=$2; shift 2 ;;
	--no-readme) readme=0; shift ;;
	*) echo "usage: $0 [-s 100k,1m,10m] [-n RUNS] [-o FILE] [--no-readme]" >&2; exit 2 ;;
	esac
done

dir=${BENCH_DIR:-/tmp/scmon-bench-peers}
mkdir -p "$dir"
py=/usr/bin/python3
if ! "$py" -c 'import pandas' 2>/dev/null; then
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q python3-pandas
fi
[ -x /usr/bin/time ] || { echo "bench-peers: /usr/bin/time is needed (Debian package time)" >&2; exit 1; }

echo "building scmon, the dump generator and the DuckDB program" >&2
if [ -n "${SCMON:-}" ]; then
	# Another scmon binary (an earlier version, for a before/after table).
	cp "$SCMON" "$dir/scmon"
else
	go build -o "$dir/scmon" ./cmd/scmon
fi
go build -o "$dir/gendump" ./bench/gendump
(cd bench/peers/duckdb && go build -o "$dir/duckdb-report" .)

from="2026-10-01 00:00:00"
to="2026-10-31 00:00:00"

# figures_scmon turns scmon's JSON into the peers' lines.
figures_scmon() {
	"$py" -c '
import json, sys
d = json.load(open(sys.argv[1]))
row = next(r for r in d["ai_mix"]["rows"] if r["group"] == "cores")
t, i, u, a, c = (row[k] for k in ("training_seconds", "inference_seconds", "unknown_seconds", "allocated_seconds", "capacity_seconds"))
print("capacity_core_seconds", c)
print("allocated_core_seconds", a)
print("ai_training_core_seconds", t)
print("ai_inference_core_seconds", i)
print("other_core_seconds", a - t - i - u)
print("utilization %.9f" % (a / c))
print("ai_share %.9f" % ((t + i) / a))
' "$1"
}

# measure TOOL SIZE: one run; appends "wall user sys maxrss_kb" to
# $dir/SIZE.TOOL.times and leaves the figures in $dir/SIZE.TOOL.out.
measure() {
	local tool=$1 size=$2 dump="$dir/$2.psv" capcores
	capcores=$(cat "$dir/$size.cores")
	case "$tool" in
	scmon)
		/usr/bin/time -f '%e %U %S %M' -a -o "$dir/$size.scmon.times" \
			"$dir/scmon" report -q -i "slurm-sacct:$dump" -c "inventory:$dir/$size.inventory.yaml" \
			--rules bench/peers/rules.yaml --from "${from/ /T}" --to "${to/ /T}" -o json >"$dir/$size.scmon.json"
		figures_scmon "$dir/$size.scmon.json" >"$dir/$size.scmon.out" ;;
	pandas)
		/usr/bin/time -f '%e %U %S %M' -a -o "$dir/$size.pandas.times" \
			"$py" bench/peers/pandas_report.py "$dump" "$capcores" "$from" "$to" >"$dir/$size.pandas.out" ;;
	duckdb)
		/usr/bin/time -f '%e %U %S %M' -a -o "$dir/$size.duckdb.times" \
			"$dir/duckdb-report" "$dump" "$capcores" "$from" "$to" >"$dir/$size.duckdb.out" ;;
	esac
}

# median FILE COLUMN: the median of a column of a times file (CPU: user+sys).
median() {
	awk -v c="$2" '{ v = (c == "cpu") ? $2 + $3 : $c; print v }' "$1" | sort -g |
		awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=""
ratios=""
for size in ${sizes//,/ }; do
	case "$size" in
	100k) n=100000; steps=-steps; label="100k (with steps)" ;;
	1m) n=1000000; steps=-steps; label="1M (with steps)" ;;
	10m) n=10000000; steps=; label="10M (allocations only)" ;;
	*) echo "bench-peers: unknown size $size (100k, 1m, 10m)" >&2; exit 2 ;;
	esac
	if [ ! -s "$dir/$size.psv" ] || [ ! -s "$dir/$size.copies" ]; then
		echo "generating the $label dump" >&2
		"$dir/gendump" -n "$n" $steps -o "$dir/$size.psv" 2>"$dir/$size.copies.tmp"
		awk '{ print $2 }' "$dir/$size.copies.tmp" >"$dir/$size.copies"
	fi
	# Capacity: 600 nodes of 64 cores per copy of the sample.
	nodes=$(($(cat "$dir/$size.copies") * 600))
	echo $((nodes * 64)) >"$dir/$size.cores"
	cat >"$dir/$size.inventory.yaml" <<YAML
clusters:
  - name: sample
    timezone: Asia/Shanghai
    nodegroups:
      - name: all
        nodes: $nodes
        cores: 64
YAML
	rm -f "$dir/$size".*.times
	for r in $(seq 1 "$runs"); do
		if [ $((r % 2)) -eq 1 ]; then order="scmon pandas duckdb"; else order="duckdb pandas scmon"; fi
		for tool in $order; do
			echo "$label run $r: $tool" >&2
			measure "$tool" "$size"
		done
		for tool in pandas duckdb; do
			if ! cmp -s "$dir/$size.scmon.out" "$dir/$size.$tool.out"; then
				echo "bench-peers: $tool and scmon disagree on $label:" >&2
				diff "$dir/$size.scmon.out" "$dir/$size.$tool.out" >&2 || true
				exit 1
			fi
		done
	done
	declare -A wall cpu rss
	for tool in scmon pandas duckdb; do
		wall[$tool]=$(median "$dir/$size.$tool.times" 1)
		cpu[$tool]=$(median "$dir/$size.$tool.times" cpu)
		rss[$tool]=$(median "$dir/$size.$tool.times" 4)
	done
	fmt() { awk -v w="$1" -v c="$2" -v m="$3" 'BEGIN { printf "%.2f s wall, %.2f CPU-s, %.0f MB", w, c, m / 1024 }'; }
	rate=$(awk -v n="$n" -v c="${cpu[scmon]}" 'BEGIN { printf "%d", n / c }')
	perjob=$(awk -v n="$n" -v m="${rss[scmon]}" 'BEGIN { printf "%.0f", m * 1024 / n }')
	rows+="| $label | $(fmt "${wall[scmon]}" "${cpu[scmon]}" "${rss[scmon]}") | $(fmt "${wall[pandas]}" "${cpu[pandas]}" "${rss[pandas]}") | $(fmt "${wall[duckdb]}" "${cpu[duckdb]}" "${rss[duckdb]}") | $rate | $perjob |"$'\n'
	ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
	ratios+="| $label | $(ratio "${wall[scmon]}" "${wall[pandas]}") | $(ratio "${cpu[scmon]}" "${cpu[pandas]}") | $(ratio "${rss[scmon]}" "${rss[pandas]}") | $(ratio "${wall[scmon]}" "${wall[duckdb]}") | $(ratio "${cpu[scmon]}" "${cpu[duckdb]}") | $(ratio "${rss[scmon]}" "${rss[duckdb]}") |"$'\n'
	unset wall cpu rss
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
	echo "<!-- generated by scripts/bench-peers.sh; do not edit -->"
	echo "Same dumps, same figures (checked equal), median of $runs alternating runs on $(nproc) cores"
	echo "(load average $load_before before, $load_after after; $(date -u +%Y-%m-%d)):"
	echo
	echo "| allocations | scmon report | pandas $("$py" -c 'import pandas; print(pandas.__version__)') (vectorized) | DuckDB (Go module, SQL over the file) | scmon allocations per CPU-s | scmon bytes resident per allocation |"
	echo "|---|---|---|---|---|---|"
	printf '%s' "$rows"
	echo
	echo "| allocations | scmon/pandas wall | CPU | memory | scmon/DuckDB wall | CPU | memory |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s' "$ratios"
} >"$out"
cat "$out"

if [ "$readme" = 1 ]; then
	"$py" - "$out" README.md <<'PY'
import sys
table, readme = open(sys.argv[1]).read(), sys.argv[2]
text = open(readme).read()
begin, end = "<!-- bench-peers:begin -->", "<!-- bench-peers:end -->"
i, j = text.find(begin), text.find(end)
if i < 0 or j < i:
    sys.exit("bench-peers: README.md has no bench-peers markers")
open(readme, "w").write(text[: i + len(begin)] + "\n" + table + text[j:])
PY
fi
