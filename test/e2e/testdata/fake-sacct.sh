#!/bin/sh
# Stand-in for sacct in test/e2e's TestSacctFaults: the real sacct cannot
# be made to hang, fail or print garbage on demand. The test copies it to a
# temporary directory and names it as the sacct source's command.
#
# FAKE_SACCT_DIR (set through the source's env: list) names a directory:
#   db.psv  what an answering sacct prints: --parsable2 --noheader lines in
#           the poller's field order, whatever window is asked for (the
#           daemon must count records read again by every poll once)
#   mode    ok (default), hang, fail or garbage
# Every call appends "PID MODE" to calls. hang writes its own PID to
# hang.pid and that of a child that holds stdout open to hang-child.pid,
# so that the test can check the daemon killed the whole process group.
set -u
dir=${FAKE_SACCT_DIR:?FAKE_SACCT_DIR is not set}
mode=ok
[ -f "$dir/mode" ] && mode=$(cat "$dir/mode")
echo "$$ $mode" >>"$dir/calls"
case $mode in
hang)
	sleep 120 &
	echo $! >"$dir/hang-child.pid"
	echo $$ >"$dir/hang.pid"
	wait
	exit 0
	;;
fail)
	echo "sacct: error: slurmdbd: Connection refused (fake sacct)" >&2
	exit 1
	;;
garbage)
	echo "sacct: this line is not sacct output"
	echo "1|2|3"
	echo "599|599|faultlab|cpu|normal|physics|carol|carol|yesterday|2026-11-01T10:00:00|2026-11-01T10:00:00|2026-11-01T11:00:00|01:00:00|UNLIMITED|COMPLETED|0:0|1|8|billing=8,cpu=8,node=1|billing=8,cpu=8,node=1|n5||/srv||bad_time|sbatch --wrap=true"
	;;
esac
[ -f "$dir/db.psv" ] && cat "$dir/db.psv"
exit 0
