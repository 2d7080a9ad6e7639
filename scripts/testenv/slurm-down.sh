#!/usr/bin/env bash
# slurm-down.sh: stop the Slurm cluster that slurm-up.sh started: cancel any
# jobs still queued or running, then stop the slurmd processes, slurmctld,
# slurmdbd, mariadbd and munged, each by the PID file slurm-up.sh wrote (a
# process is only signalled when its command line still matches, so nothing
# this script did not start is touched). Job processes left over by the
# slurmd (slurmstepd and the jobs themselves, recognised by their
# SLURM_CONF) are ended too.
#
# Usage: slurm-down.sh [--purge]
#   --purge  also delete ${SCMON_TESTENV_DIR:-/tmp/scmon-testenv}/slurm (the
#            accounting database, job state, logs, munge key), so the next
#            slurm-up.sh starts a brand-new cluster with job IDs from 1.
# Without --purge the state is kept and the next slurm-up.sh resumes it.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

purge=0
[[ "${1:-}" == "--purge" ]] && purge=1

start="$(now_ms)"
if [[ -d "$SLURM_DIR" ]]; then
	if pid_alive "$SLURM_PIDS/slurmctld.pid" slurmctld && [[ -f "$SLURM_CONF" ]]; then
		jobs="$(squeue -h -o %A 2>/dev/null | tr '\n' ' ')" || jobs=""
		if [[ -n "${jobs// /}" ]]; then
			log "cancelling jobs: $jobs"
			# shellcheck disable=SC2086 # one argument per job ID
			scancel $jobs 2>/dev/null || true
			no_jobs() { [[ -z "$(squeue -h -o %A 2>/dev/null)" ]]; }
			wait_until 20 "jobs to end" no_jobs || true
		fi
	fi
	for node in "${SLURM_NODES[@]}"; do
		stop_pidfile "$SLURM_PIDS/slurmd-$node.pid" "slurmd" 20
	done
	stop_pidfile "$SLURM_PIDS/slurmctld.pid" slurmctld 30
	stop_pidfile "$SLURM_PIDS/slurmdbd.pid" slurmdbd 30
	stop_pidfile "$SLURM_PIDS/mariadbd.pid" mariadbd 60
	stop_pidfile "$SLURM_PIDS/munged.pid" munged 10
	kill_job_leftovers
fi

if (( purge )); then
	log "removing $SLURM_DIR"
	rm -rf "$SLURM_DIR"
fi
log "slurm down in $(elapsed "$start") s"
