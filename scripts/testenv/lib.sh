# shellcheck shell=bash disable=SC2034 # the variables are used by the scripts that source this
# lib.sh: helpers shared by the scmon test-environment scripts (sourced, not run).
#
# It defines the state directory layout, PID-file handling that only ever
# touches processes these scripts started, and small wait/log helpers.

TESTENV_DIR="${SCMON_TESTENV_DIR:-/tmp/scmon-testenv}"
TESTENV_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[testenv %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_root() {
	[[ "$(id -u)" -eq 0 ]] || die "$(basename "$0") must run as root"
}

# now_ms prints the wall clock in milliseconds.
now_ms() { date +%s%3N; }

# elapsed START_MS prints seconds since START_MS with one decimal.
elapsed() {
	local d=$(( $(now_ms) - $1 ))
	printf '%d.%d' $((d / 1000)) $(((d % 1000) / 100))
}

# tail_log FILE [N] prints the last N lines of FILE to stderr, if it exists.
tail_log() {
	local f="$1" n="${2:-30}"
	if [[ -f "$f" ]]; then
		printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
		tail -n "$n" "$f" >&2 || true
		printf -- '-----\n' >&2
	fi
}

# pid_alive PIDFILE NAME succeeds when PIDFILE names a live process whose
# command line mentions NAME (so a recycled PID is never mistaken for ours).
pid_alive() {
	local pidfile="$1" name="$2" pid
	[[ -s "$pidfile" ]] || return 1
	pid="$(tr -dc '0-9' <"$pidfile")"
	[[ -n "$pid" ]] || return 1
	[[ -r "/proc/$pid/cmdline" ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$name"
}

# proc_running PID succeeds while PID exists and is not a zombie (PID 1 on
# this kind of machine reaps orphans only every couple of seconds).
proc_running() {
	local state
	state="$( { awk '/^State:/ {print $2}' "/proc/$1/status"; } 2>/dev/null)" || return 1
	[[ -n "$state" && "$state" != Z ]]
}

# stop_pidfile PIDFILE NAME [TIMEOUT_S] [SIGNAL]: send SIGNAL (TERM) to the
# process named in PIDFILE (if it is alive and is NAME), wait for it to go,
# SIGKILL after the timeout, then remove the PID file.
stop_pidfile() {
	local pidfile="$1" name="$2" timeout="${3:-20}" sig="${4:-TERM}" pid i
	if ! pid_alive "$pidfile" "$name"; then
		rm -f "$pidfile"
		return 0
	fi
	pid="$(tr -dc '0-9' <"$pidfile")"
	log "stopping $(cat "/proc/$pid/comm" 2>/dev/null || echo "$name") (pid $pid)"
	kill "-$sig" "$pid" 2>/dev/null || true
	for ((i = 0; i < timeout * 10; i++)); do
		proc_running "$pid" || break
		sleep 0.1
	done
	if proc_running "$pid"; then
		log "$name (pid $pid) ignored SIG$sig for ${timeout}s, sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	rm -f "$pidfile"
}

# start_bg PIDFILE LOGFILE CMD...: start CMD detached (own session, stdin
# from /dev/null, stdout and stderr to LOGFILE, so that a caller reading our
# output through a pipe is never held open by a daemon) and record its PID.
start_bg() {
	local pidfile="$1" logfile="$2"
	shift 2
	setsid "$@" </dev/null >>"$logfile" 2>&1 &
	echo "$!" >"$pidfile"
}

# wait_until TIMEOUT_S DESCRIPTION CMD...: run CMD every 0.2 s until it
# succeeds; fail after TIMEOUT_S seconds.
wait_until() {
	local timeout="$1" what="$2" deadline
	shift 2
	deadline=$(( $(now_ms) + timeout * 1000 ))
	until "$@" >/dev/null 2>&1; do
		if (( $(now_ms) > deadline )); then
			log "timed out after ${timeout}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

# wait_daemon PIDFILE NAME TIMEOUT_S DESCRIPTION CMD...: like wait_until, but
# fails at once when the daemon recorded in PIDFILE has exited.
wait_daemon() {
	local pidfile="$1" name="$2" timeout="$3" what="$4" deadline
	shift 4
	deadline=$(( $(now_ms) + timeout * 1000 ))
	until "$@" >/dev/null 2>&1; do
		if ! pid_alive "$pidfile" "$name"; then
			log "$what exited during startup"
			return 1
		fi
		if (( $(now_ms) > deadline )); then
			log "timed out after ${timeout}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

# port_listening PORT succeeds when something listens on 127.0.0.1:PORT (TCP).
port_listening() {
	ss -Htln "sport = :$1" | grep -q .
}

# port_free_or_die PORT WHAT fails clearly when PORT is already taken by a
# process we did not start.
port_free_or_die() {
	if port_listening "$1"; then
		ss -Htlnp "sport = :$1" >&2 || true
		die "port $1 (needed for $2) is already in use by another process"
	fi
}

# The Debian packages install.sh puts on the machine.
TESTENV_PACKAGES=(
	slurmctld slurmd slurmdbd slurm-client munge mariadb-server
	prometheus victoria-metrics postgresql postgresql-client
	chromium chromium-driver
	procps iproute2 curl ca-certificates util-linux passwd coreutils
)

# packages_installed succeeds when every package in TESTENV_PACKAGES is installed.
packages_installed() {
	local p status
	for p in "${TESTENV_PACKAGES[@]}"; do
		status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
		[[ "$status" == "installed" ]] || return 1
	done
}

# ---- Slurm cluster layout (slurm-up.sh, slurm-down.sh, smoke.sh) ----------

SLURM_CLUSTER=scmonlab
SLURM_NODES=(n1 n2 n3 n4 n5 n6)
SLURM_TEST_USERS=(alice bob carol)
SLURM_DIR="$TESTENV_DIR/slurm"
SLURM_ETC="$SLURM_DIR/etc"
SLURM_PIDS="$SLURM_DIR/pids"     # PID files written by these scripts
SLURM_RUN="$SLURM_DIR/run"       # PID files written by the daemons
SLURM_LOG="$SLURM_DIR/log"
SLURM_SPOOL="$SLURM_DIR/spool"
SLURM_DEV="$SLURM_DIR/dev"
SLURM_JOBS="$SLURM_DIR/jobs"     # world-writable working dir for test jobs
SLURM_JOBCOMP="$SLURM_DIR/jobcomp.log"
MUNGE_DIR="$SLURM_DIR/munge"
MUNGE_SOCKET="$MUNGE_DIR/run/munge.socket"
MYSQL_DIR="$SLURM_DIR/mysql"
MYSQL_SOCKET="$MYSQL_DIR/run/mysqld.sock"
SLURMCTLD_PORT="${SCMON_SLURMCTLD_PORT:-16817}"
SLURMDBD_PORT="${SCMON_SLURMDBD_PORT:-16819}"
SLURMD_PORT_BASE="${SCMON_SLURMD_PORT_BASE:-16900}"   # node nX listens on base+X
MYSQL_PORT="${SCMON_MYSQL_PORT:-13306}"
export SLURM_CONF="$SLURM_ETC/slurm.conf"

# kill_job_leftovers: end processes that slurmd left behind for this cluster
# (slurmstepd and job processes carry SLURM_CONF pointing at our slurm.conf;
# job processes also carry SLURM_JOB_ID). Nothing else is touched.
kill_job_leftovers() {
	local pass p env comm found
	for pass in TERM KILL; do
		found=0
		for p in /proc/[0-9]*; do
			env="$( { tr '\0' '\n' <"$p/environ"; } 2>/dev/null)" || continue
			grep -qxF "SLURM_CONF=$SLURM_CONF" <<<"$env" || continue
			comm="$( { cat "$p/comm"; } 2>/dev/null)" || continue
			if [[ "$comm" == slurmstepd ]] || grep -q '^SLURM_JOB_ID=' <<<"$env"; then
				log "killing leftover job process ${p#/proc/} ($comm) with SIG$pass"
				kill "-$pass" "${p#/proc/}" 2>/dev/null || true
				found=1
			fi
		done
		(( found )) || break
		sleep 1
	done
}
