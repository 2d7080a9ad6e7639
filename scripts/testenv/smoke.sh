#!/usr/bin/env bash
# smoke.sh: prove that the cluster started by slurm-up.sh works the way
# scmon's end-to-end tests need it to. As real users it submits a GPU job
# (alice, --gres=gpu:h100:2), a 2-node CPU job with an srun step (carol), an
# NPU job (bob, --gres=npu:2 -p npu) and a DCU job (carol, -p dcu); polls
# sacct until all four have ended; prints them with
#   TZ=UTC SLURM_TIME_FORMAT=standard sacct -a -P -X -D --format=...
# and fails unless each accelerator job shows its typed and untyped gres/
# TRES in AllocTRES, the srun step was recorded, and the jobcomp/filetxt log
# has a line per job. It then forces slurmdbd's rollup for the hour(s) the
# jobs ran in and prints `sreport -t seconds -P cluster utilization`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

[[ -f "$SLURM_DIR/env.sh" ]] || die "no $SLURM_DIR/env.sh: run scripts/testenv/slurm-up.sh first"
# shellcheck source=/dev/null
source "$SLURM_DIR/env.sh"
: "${SCMON_TEST_SLURM_JOBCOMP:?env.sh does not set SCMON_TEST_SLURM_JOBCOMP}"
export TZ=UTC SLURM_TIME_FORMAT=standard
unset SQUEUE_FORMAT SACCT_FORMAT SINFO_FORMAT SLURM_CLUSTERS

start="$(now_ms)"
t0="$(date -d '-1 min' +%Y-%m-%dT%H:%M:%S)"
timeout="${SCMON_SMOKE_TIMEOUT:-180}"
cd "$SLURM_JOBS"

submit() { # USER SBATCH-ARGS...
	local user="$1" out
	shift
	out="$(runuser -u "$user" -- sbatch --parsable --chdir="$SLURM_JOBS" \
		--output="$SLURM_JOBS/smoke-%j.out" --time=2 "$@")" || die "sbatch as $user failed: $*"
	printf '%s\n' "${out%%;*}"
}

gpu="$(submit alice -J smoke-gpu -p gpu --gres=gpu:h100:2 -n 2 --wrap 'sleep 5')"
cpu="$(submit carol -J smoke-cpu -N 2 --ntasks-per-node=1 --wrap 'srun hostname; sleep 2')"
npu="$(submit bob -J smoke-npu -p npu --gres=npu:2 --wrap 'sleep 3')"
dcu="$(submit carol -J smoke-dcu -p dcu --gres=dcu:k100:1 --wrap 'sleep 3')"
ids=("$gpu" "$cpu" "$npu" "$dcu")
idlist="$(IFS=,; echo "${ids[*]}")"
log "submitted gpu=$gpu cpu=$cpu npu=$npu dcu=$dcu"

# Poll until squeue no longer lists the jobs, then until sacct has them all
# in a final state with an End time (sacct lags slurmctld a little).
deadline=$(( $(now_ms) + timeout * 1000 ))
while [[ -n "$(squeue -h -j "$idlist" -o %i 2>/dev/null)" ]]; do
	(( $(now_ms) < deadline )) || { squeue -j "$idlist" >&2; die "jobs still queued after ${timeout}s"; }
	sleep 0.5
done
gone="$(now_ms)"
sacct_final() {
	local n
	n="$(sacct -n -P -X -D -j "$idlist" --format=JobIDRaw,State,End |
		awk -F'|' '$2 !~ /^(PENDING|RUNNING|REQUEUED|SUSPENDED|COMPLETING)/ && $3 != "Unknown" && $3 != "None"' |
		wc -l)"
	[[ "$n" -eq "${#ids[@]}" ]]
}
while ! sacct_final; do
	(( $(now_ms) < deadline )) || {
		sacct -a -P -X -D -j "$idlist" --format=JobID,State,Start,End >&2
		die "sacct did not show all jobs ended within ${timeout}s"
	}
	sleep 0.5
done
log "jobs left squeue after $(elapsed "$start") s; sacct caught up $(elapsed "$gone") s later"

fmt=JobID,JobIDRaw,Partition,State,Start,End,NCPUS,AllocTRES
echo "== sacct -a -P -X -D -S $t0 --format=$fmt"
report="$(sacct -a -P -X -D -S "$t0" --format="$fmt")"
printf '%s\n' "$report"

fail=0
check() { # JOBID DESCRIPTION STATE PARTITION TRES... (each TRES must be in AllocTRES)
	local id="$1" what="$2" state="$3" part="$4" line tres t ok=1
	shift 4
	line="$(printf '%s\n' "$report" | awk -F'|' -v id="$id" '$2 == id')"
	IFS='|' read -r _ _ p st _ _ _ tres <<<"$line"
	[[ "$p" == "$part" && "$st" == "$state" ]] || ok=0
	for t in "$@"; do
		[[ ",$tres," == *",$t,"* ]] || ok=0
	done
	if (( ok )); then
		log "ok: $what"
	else
		log "FAIL: $what: job $id line: ${line:-<missing>}"
		fail=1
	fi
}
check "$gpu" "GPU job: gres/gpu=2 and gres/gpu:h100=2" COMPLETED gpu gres/gpu=2 gres/gpu:h100=2
check "$cpu" "2-node CPU job: node=2" COMPLETED cpu node=2
check "$npu" "NPU job: gres/npu=2 and gres/npu:910b=2" COMPLETED npu gres/npu=2 gres/npu:910b=2
check "$dcu" "DCU job: gres/dcu=1 and gres/dcu:k100=1" COMPLETED dcu gres/dcu=1 gres/dcu:k100=1

steps="$(sacct -n -P -j "$cpu" --format=JobID,JobName,State)"
if grep -q "^$cpu\.0|hostname|COMPLETED" <<<"$steps"; then
	log "ok: srun step $cpu.0 (hostname) recorded"
else
	log "FAIL: srun step $cpu.0 missing:"$'\n'"$steps"
	fail=1
fi

for id in "${ids[@]}"; do
	if grep -q "^JobId=$id " "$SCMON_TEST_SLURM_JOBCOMP"; then
		log "ok: jobcomp line for job $id"
	else
		log "FAIL: no jobcomp line for job $id in $SCMON_TEST_SLURM_JOBCOMP"
		fail=1
	fi
done
echo "== jobcomp lines"
grep -E "^JobId=($(IFS='|'; echo "${ids[*]}")) " "$SCMON_TEST_SLURM_JOBCOMP"

# Roll up the hours the jobs ran in: from the hour of the first start to the
# hour boundary after the last end.
first_start="$(printf '%s\n' "$report" | awk -F'|' 'NR > 1 && $5 ~ /^[0-9]/ {print $5}' | sort | head -n 1)"
last_end="$(printf '%s\n' "$report" | awk -F'|' 'NR > 1 && $6 ~ /^[0-9]/ {print $6}' | sort | tail -n 1)"
hs="$(date -d "@$(( $(date -d "$first_start" +%s) / 3600 * 3600 ))" +%Y-%m-%dT%H:%M:%S)"
he="$(date -d "@$(( $(date -d "$last_end" +%s) / 3600 * 3600 + 3600 ))" +%Y-%m-%dT%H:%M:%S)"
echo "== sacctmgr -i rollup $hs $he"
sacctmgr -i rollup "$hs" "$he"
echo "== sreport -t seconds -P cluster utilization start=$hs end=$he"
util="$(sreport -t seconds -P cluster utilization start="$hs" end="$he")"
printf '%s\n' "$util"
alloc="$(printf '%s\n' "$util" | awk -F'|' -v c="$SLURM_CLUSTER" '$1 == c {print $2}')"
if [[ "$alloc" =~ ^[0-9]+$ ]] && (( alloc > 0 )); then
	log "ok: sreport shows $alloc allocated CPU-seconds"
else
	log "FAIL: sreport shows no allocated time"
	fail=1
fi

(( fail == 0 )) || die "smoke test failed"
log "smoke test passed in $(elapsed "$start") s"
