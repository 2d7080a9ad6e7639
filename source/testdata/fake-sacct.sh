#!/bin/sh
# Stand-in for sacct in scmon's source tests (copied to a temporary
# directory and made executable by the test).
#
# FAKE_SACCT_DIR names a directory holding:
#   db.psv   the "accounting database": sacct --parsable2 --noheader lines
#            in collector.DefaultSacctFields order, each allocation followed
#            by its steps. The test replaces it between polls.
#   mode     optional, one word: ok (default), fail, hang, garbage.
# Each call N (1, 2, ...) leaves call-N.argv (one argument per line) and
# call-N.env (TZ, SLURM_TIME_FORMAT and SLURM_CONF as it saw them).
#
# Selection follows sacct without --state: an allocation is printed when
# it became eligible before --endtime and had not ended before
# --starttime; its steps come with it. --jobs keeps only the listed raw
# ids or array ids. Times compare as strings (ISO 8601, one zone).
set -u
dir=${FAKE_SACCT_DIR:?}
n=1
while [ -e "$dir/call-$n.argv" ]; do n=$((n + 1)); done
: > "$dir/call-$n.argv"
for a in "$@"; do printf '%s\n' "$a" >> "$dir/call-$n.argv"; done
printf 'TZ=%s\nSLURM_TIME_FORMAT=%s\nSLURM_CONF=%s\n' "${TZ-unset}" "${SLURM_TIME_FORMAT-unset}" "${SLURM_CONF-unset}" > "$dir/call-$n.env"

mode=ok
[ -f "$dir/mode" ] && mode=$(cat "$dir/mode")
case $mode in
fail)
	echo "sacct: error: Problem talking to the database: Connection refused" >&2
	exit 1
	;;
hang)
	# A grandchild that keeps stdout open, as a wedged plugin could.
	sleep 1000 &
	echo $! > "$dir/grandchild.pid"
	echo $$ > "$dir/child.pid"
	sleep 1000
	exit 0
	;;
esac

start= end= jobs=
while [ $# -gt 0 ]; do
	case $1 in
	--starttime) start=$2; shift ;;
	--endtime) end=$2; shift ;;
	--jobs=*) jobs=${1#--jobs=} ;;
	esac
	shift
done

if [ "$mode" = garbage ]; then
	echo "this is not sacct output"
	echo "1|2|3"
	echo "999|999|scmonlab|cpu|normal|physics|carol|carol|yesterday|2026-11-28T18:03:18|2026-11-28T18:03:18|Unknown|00:00:09|365-00:00:00|RUNNING|0:0|1|1|cpu=1|cpu=1|n5|||||x|"
fi

[ -f "$dir/db.psv" ] || exit 0
awk -F'|' -v S="$start" -v E="$end" -v J=",$jobs," '
function listed(raw, id) {
	if (J == ",,") return 1
	sub(/_.*/, "", id)
	return index(J, "," raw ",") > 0 || index(J, "," id ",") > 0
}
{
	if (index($1, ".") > 0) { if (keep) print; next }
	keep = $10 != "Unknown" && $10 != "None" && $10 < E && ($12 == "Unknown" || $12 >= S) && listed($2, $1)
	if (keep) print
}' "$dir/db.psv"
