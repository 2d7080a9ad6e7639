#!/usr/bin/env bash
# slurm-up.sh: start a real Slurm 22.05 cluster "scmonlab" on this one host,
# without systemd, for scmon's end-to-end tests.
#
# Everything lives under ${SCMON_TESTENV_DIR:-/tmp/scmon-testenv}/slurm:
# configs (etc/), munge key and private socket (munge/), MariaDB datadir and
# socket on a private TCP port (mysql/), spool, logs, PID files, fake device
# files (dev/) and the jobcomp/filetxt log. Daemons run in the foreground in
# the background: munged -F, mariadbd, slurmdbd -D, slurmctld -D, and one
# slurmd -D -N nX per node. Nodes: n1,n2 (gpu:h100:4), n3 (npu:910b:4),
# n4 (dcu:k100:4), n5,n6 (CPU only); 8 CPUs each. Partitions cpu (default),
# gpu, npu, dcu. Linux users alice, bob, carol are created if missing, with
# accounts ai (alice, bob) and physics (carol) in slurmdbd.
#
# It waits until sinfo shows all six nodes idle, then writes slurm/env.sh
# (source it: exports SLURM_CONF and SCMON_TEST_SLURM_*). Running it while
# the cluster is up leaves the running daemons alone. Stop with slurm-down.sh.
#
# Environment: SCMON_TESTENV_DIR, SCMON_SLURMCTLD_PORT (16817),
# SCMON_SLURMDBD_PORT (16819), SCMON_SLURMD_PORT_BASE (16900: nX gets base+X),
# SCMON_MYSQL_PORT (13306), SCMON_SLURM_TIMEOUT (seconds to wait, 120),
# SCMON_SLURM_TZ (the daemons' TZ, UTC).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

start="$(now_ms)"
timeout="${SCMON_SLURM_TIMEOUT:-120}"
# The daemons' time zone decides the jobcomp/filetxt timestamps and the hour
# boundaries of slurmdbd's rollups: pin it so tests are deterministic.
export TZ="${SCMON_SLURM_TZ:-UTC}"
host="$(hostname -s)"

for bin in munged mariadbd mariadb-install-db mariadb slurmdbd slurmctld slurmd sacctmgr sinfo scontrol setpriv ss; do
	command -v "$bin" >/dev/null || die "$bin not found: run scripts/testenv/install.sh first"
done

# ---- users ------------------------------------------------------------------
for u in "${SLURM_TEST_USERS[@]}"; do
	if ! id -u "$u" >/dev/null 2>&1; then
		log "creating Linux user $u"
		useradd --create-home --shell /bin/bash --user-group "$u"
	fi
done

# ---- directories --------------------------------------------------------------
install -d -m 755 "$TESTENV_DIR" "$SLURM_DIR" "$SLURM_PIDS"
install -d -m 755 "$SLURM_ETC"
install -d -m 755 -o slurm -g slurm "$SLURM_RUN" "$SLURM_LOG" "$SLURM_SPOOL" \
	"$SLURM_SPOOL/slurmctld"
install -d -m 755 "$SLURM_SPOOL/slurmd" "$SLURM_DEV"
install -d -m 1777 "$SLURM_JOBS"
# slurmctld (as the slurm user) appends to the jobcomp/filetxt log.
[[ -e "$SLURM_JOBCOMP" ]] || install -m 644 -o slurm -g slurm /dev/null "$SLURM_JOBCOMP"
install -d -m 755 -o munge -g munge "$MUNGE_DIR" "$MUNGE_DIR/run" "$MUNGE_DIR/log" "$MUNGE_DIR/lib"
install -d -m 700 -o munge -g munge "$MUNGE_DIR/etc"
install -d -m 755 -o mysql -g mysql "$MYSQL_DIR" "$MYSQL_DIR/run" "$MYSQL_DIR/log"

# ---- munge --------------------------------------------------------------------
munge_key="$MUNGE_DIR/etc/munge.key"
if [[ ! -s "$munge_key" ]]; then
	log "creating munge key"
	dd if=/dev/urandom of="$munge_key" bs=1024 count=1 status=none
fi
chown munge:munge "$munge_key"
chmod 600 "$munge_key"

munge_ok() { munge -n -S "$MUNGE_SOCKET" | unmunge -S "$MUNGE_SOCKET" >/dev/null; }

if pid_alive "$SLURM_PIDS/munged.pid" munged; then
	log "munged already running"
else
	rm -f "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
	log "starting munged"
	start_bg "$SLURM_PIDS/munged.pid" "$MUNGE_DIR/log/munged.out" \
		setpriv --reuid=munge --regid=munge --init-groups -- \
		munged -F --socket="$MUNGE_SOCKET" --key-file="$munge_key" \
		--log-file="$MUNGE_DIR/log/munged.log" --pid-file="$MUNGE_DIR/run/munged.pid" \
		--seed-file="$MUNGE_DIR/lib/munged.seed"
	if ! wait_daemon "$SLURM_PIDS/munged.pid" munged 20 munged munge_ok; then
		tail_log "$MUNGE_DIR/log/munged.log"
		tail_log "$MUNGE_DIR/log/munged.out"
		die "munged did not come up"
	fi
fi

# ---- MariaDB --------------------------------------------------------------------
db_pass_file="$SLURM_ETC/db.pass"
if [[ ! -s "$db_pass_file" ]]; then
	(umask 077 && head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$db_pass_file")
fi
db_pass="$(cat "$db_pass_file")"

mysql_client() { mariadb --no-defaults --socket="$MYSQL_SOCKET" -u root "$@"; }

if [[ ! -d "$MYSQL_DIR/data/mysql" ]]; then
	log "initialising MariaDB datadir"
	rm -rf "$MYSQL_DIR/data"
	install -d -m 750 -o mysql -g mysql "$MYSQL_DIR/data"
	mariadb-install-db --no-defaults --user=mysql --datadir="$MYSQL_DIR/data" \
		--auth-root-authentication-method=socket --skip-test-db --skip-name-resolve \
		>"$MYSQL_DIR/log/install-db.log" 2>&1 ||
		{ tail_log "$MYSQL_DIR/log/install-db.log"; die "mariadb-install-db failed"; }
fi

if pid_alive "$SLURM_PIDS/mariadbd.pid" mariadbd; then
	log "mariadbd already running"
else
	port_free_or_die "$MYSQL_PORT" mariadbd
	log "starting mariadbd on 127.0.0.1:$MYSQL_PORT"
	start_bg "$SLURM_PIDS/mariadbd.pid" "$MYSQL_DIR/log/mariadbd.out" \
		mariadbd --no-defaults --user=mysql --datadir="$MYSQL_DIR/data" \
		--socket="$MYSQL_SOCKET" --port="$MYSQL_PORT" --bind-address=127.0.0.1 \
		--pid-file="$MYSQL_DIR/run/mariadbd.pid" --log-error="$MYSQL_DIR/log/mariadbd.log" \
		--skip-name-resolve --innodb-buffer-pool-size=256M --innodb-lock-wait-timeout=900 \
		--innodb-log-file-size=64M --max-connections=64 --skip-log-bin
	if ! wait_daemon "$SLURM_PIDS/mariadbd.pid" mariadbd 60 mariadbd mysql_client -e 'SELECT 1'; then
		tail_log "$MYSQL_DIR/log/mariadbd.log"
		die "mariadbd did not come up"
	fi
fi
mysql_client --batch <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$db_pass';
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$db_pass';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
SQL

# ---- fake accelerator devices ------------------------------------------------
# Slurm 22.05 drops GRES without File= (and marks the node INVAL), so each
# accelerator is a character device node that no driver backs.
make_devs() { # NODE PREFIX MAJOR FIRST_MINOR: PREFIX<minor> for 4 minors
	local node="$1" prefix="$2" major="$3" first="$4" minor
	install -d -m 755 "$SLURM_DEV/$node"
	for ((minor = first; minor < first + 4; minor++)); do
		if [[ ! -c "$SLURM_DEV/$node/$prefix$minor" ]]; then
			rm -f "$SLURM_DEV/$node/$prefix$minor"
			mknod -m 666 "$SLURM_DEV/$node/$prefix$minor" c "$major" "$minor"
		fi
	done
}
make_devs n1 nvidia 195 0    # NVIDIA: /dev/nvidia0..3
make_devs n2 nvidia 195 0
make_devs n3 davinci 236 0   # Ascend: /dev/davinci0..3
make_devs n4 renderD 226 128 # Hygon DCU: /dev/dri/renderD128..131

# ---- configuration ------------------------------------------------------------
write_if_changed() { # FILE (content on stdin)
	local tmp
	tmp="$(mktemp "$1.XXXXXX")"
	cat >"$tmp"
	if [[ -f "$1" ]] && cmp -s "$tmp" "$1"; then
		rm -f "$tmp"
	else
		mv -f "$tmp" "$1"
	fi
}

write_if_changed "$SLURM_ETC/slurm.conf" <<CONF
# Generated by scmon scripts/testenv/slurm-up.sh; edits are overwritten.
ClusterName=$SLURM_CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$SLURMCTLD_PORT
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$SLURM_SPOOL/slurmctld
SlurmdSpoolDir=$SLURM_SPOOL/slurmd/%n
SlurmctldPidFile=$SLURM_RUN/slurmctld.pid
SlurmdPidFile=$SLURM_RUN/slurmd-%n.pid
SlurmctldLogFile=$SLURM_LOG/slurmctld.log
SlurmdLogFile=$SLURM_LOG/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmdParameters=config_overrides
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
ReturnToService=2
MinJobAge=10
KillWait=5
InactiveLimit=0
Waittime=0
MessageTimeout=10
SlurmctldTimeout=30
SlurmdTimeout=300
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$SLURMDBD_PORT
AccountingStoragePass=socket=$MUNGE_SOCKET
AccountingStorageTRES=gres/gpu,gres/gpu:h100,gres/npu,gres/npu:910b,gres/dcu,gres/dcu:k100
AccountingStoreFlags=job_comment,job_script
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_JOBCOMP
GresTypes=gpu,npu,dcu

NodeName=DEFAULT CPUs=8 Sockets=1 CoresPerSocket=8 ThreadsPerCore=1 RealMemory=16000 State=UNKNOWN
NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((SLURMD_PORT_BASE + 1)) Gres=gpu:h100:4
NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((SLURMD_PORT_BASE + 2)) Gres=gpu:h100:4
NodeName=n3 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((SLURMD_PORT_BASE + 3)) Gres=npu:910b:4
NodeName=n4 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((SLURMD_PORT_BASE + 4)) Gres=dcu:k100:4
NodeName=n5 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((SLURMD_PORT_BASE + 5))
NodeName=n6 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((SLURMD_PORT_BASE + 6))

PartitionName=cpu Nodes=n5,n6 Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=n1,n2 MaxTime=INFINITE State=UP TRESBillingWeights="CPU=1.0,GRES/gpu=8.0"
PartitionName=npu Nodes=n3 MaxTime=INFINITE State=UP TRESBillingWeights="CPU=1.0,GRES/npu=6.0"
PartitionName=dcu Nodes=n4 MaxTime=INFINITE State=UP TRESBillingWeights="CPU=1.0,GRES/dcu=4.0"
CONF
chmod 644 "$SLURM_ETC/slurm.conf"

write_if_changed "$SLURM_ETC/gres.conf" <<CONF
# Generated by scmon scripts/testenv/slurm-up.sh; the files are fake devices.
NodeName=n1 Name=gpu Type=h100 File=$SLURM_DEV/n1/nvidia[0-3]
NodeName=n2 Name=gpu Type=h100 File=$SLURM_DEV/n2/nvidia[0-3]
NodeName=n3 Name=npu Type=910b File=$SLURM_DEV/n3/davinci[0-3]
NodeName=n4 Name=dcu Type=k100 File=$SLURM_DEV/n4/renderD[128-131]
CONF
chmod 644 "$SLURM_ETC/gres.conf"

write_if_changed "$SLURM_ETC/slurmdbd.conf" <<CONF
# Generated by scmon scripts/testenv/slurm-up.sh; edits are overwritten.
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdAddr=127.0.0.1
DbdHost=$host
DbdPort=$SLURMDBD_PORT
SlurmUser=slurm
DebugLevel=info
LogFile=$SLURM_LOG/slurmdbd.log
PidFile=$SLURM_RUN/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$MYSQL_PORT
StorageUser=slurm
StoragePass=$db_pass
StorageLoc=slurm_acct_db
CONF
chown slurm:slurm "$SLURM_ETC/slurmdbd.conf"
chmod 600 "$SLURM_ETC/slurmdbd.conf"

# ---- slurmdbd -------------------------------------------------------------------
if pid_alive "$SLURM_PIDS/slurmdbd.pid" slurmdbd; then
	log "slurmdbd already running"
else
	port_free_or_die "$SLURMDBD_PORT" slurmdbd
	log "starting slurmdbd on 127.0.0.1:$SLURMDBD_PORT"
	start_bg "$SLURM_PIDS/slurmdbd.pid" "$SLURM_LOG/slurmdbd.out" slurmdbd -D
	if ! wait_daemon "$SLURM_PIDS/slurmdbd.pid" slurmdbd "$timeout" slurmdbd sacctmgr -n -P show cluster; then
		tail_log "$SLURM_LOG/slurmdbd.log"
		tail_log "$SLURM_LOG/slurmdbd.out"
		die "slurmdbd did not come up"
	fi
fi

# ---- accounting entries ----------------------------------------------------------
sacctmgr_has() { [[ -n "$(sacctmgr -n -P "$@" 2>/dev/null)" ]]; }
if ! sacctmgr_has show cluster "$SLURM_CLUSTER" format=cluster; then
	sacctmgr -i add cluster "$SLURM_CLUSTER" >/dev/null
fi
add_account() { # ACCOUNT DESCRIPTION
	if ! sacctmgr_has show account "$1" format=account; then
		sacctmgr -i add account "$1" cluster="$SLURM_CLUSTER" description="$2" organization=scmon >/dev/null
	fi
}
add_user() { # USER ACCOUNT
	if ! sacctmgr_has show assoc where cluster="$SLURM_CLUSTER" user="$1" account="$2" format=user; then
		sacctmgr -i add user "$1" account="$2" defaultaccount="$2" cluster="$SLURM_CLUSTER" >/dev/null
	fi
}
add_account ai "AI research"
add_account physics "Physics simulation"
add_user alice ai
add_user bob ai
add_user carol physics

# ---- slurmctld ---------------------------------------------------------------------
if pid_alive "$SLURM_PIDS/slurmctld.pid" slurmctld; then
	log "slurmctld already running"
else
	port_free_or_die "$SLURMCTLD_PORT" slurmctld
	log "starting slurmctld on 127.0.0.1:$SLURMCTLD_PORT"
	start_bg "$SLURM_PIDS/slurmctld.pid" "$SLURM_LOG/slurmctld.out" slurmctld -D
	if ! wait_daemon "$SLURM_PIDS/slurmctld.pid" slurmctld "$timeout" slurmctld scontrol ping; then
		tail_log "$SLURM_LOG/slurmctld.log"
		tail_log "$SLURM_LOG/slurmctld.out"
		die "slurmctld did not come up"
	fi
fi

# ---- slurmd, one per node ---------------------------------------------------------
slurmd_started_at="$(date +%s)"
declare -A started_now=()
for i in "${!SLURM_NODES[@]}"; do
	node="${SLURM_NODES[$i]}"
	if pid_alive "$SLURM_PIDS/slurmd-$node.pid" "slurmd"; then
		continue
	fi
	port_free_or_die $((SLURMD_PORT_BASE + i + 1)) "slurmd $node"
	install -d -m 755 "$SLURM_SPOOL/slurmd/$node"
	log "starting slurmd $node on 127.0.0.1:$((SLURMD_PORT_BASE + i + 1))"
	start_bg "$SLURM_PIDS/slurmd-$node.pid" "$SLURM_LOG/slurmd-$node.out" slurmd -D -N "$node"
	started_now[$node]=1
done

# ---- wait for the nodes ---------------------------------------------------------------
# Ready when sinfo shows every node idle and every node has registered since
# this script started its slurmd (a restarted slurmctld restores the old node states
# from its state files before the slurmd processes register again).
all_idle() {
	local n line name since
	n="$(sinfo -h -N -o '%N %T' | sort -u | awk '$2 == "idle"' | wc -l)"
	[[ "$n" -eq "${#SLURM_NODES[@]}" ]] || return 1
	while read -r line; do
		name="$(sed -nE 's/^NodeName=([^ ]+).*/\1/p' <<<"$line")"
		since="$(sed -nE 's/.* SlurmdStartTime=([0-9T:-]+) .*/\1/p' <<<"$line")"
		[[ -n "${started_now[$name]:-}" ]] || continue
		[[ -n "$since" ]] || return 1
		(( $(date -d "$since" +%s) >= slurmd_started_at - 1 )) || return 1
	done < <(SLURM_TIME_FORMAT=standard scontrol show node --oneliner)
}
deadline=$(( $(now_ms) + timeout * 1000 ))
failed=""
until all_idle 2>/dev/null; do
	for node in "${SLURM_NODES[@]}"; do
		pid_alive "$SLURM_PIDS/slurmd-$node.pid" slurmd || failed="slurmd $node exited"
	done
	pid_alive "$SLURM_PIDS/slurmctld.pid" slurmctld || failed="slurmctld exited"
	(( $(now_ms) > deadline )) && failed="the nodes were not all idle after ${timeout}s"
	[[ -z "$failed" ]] || break
	sleep 0.3
done
if [[ -n "$failed" ]]; then
	sinfo -N -l >&2 || true
	tail_log "$SLURM_LOG/slurmctld.log" 40
	for node in "${SLURM_NODES[@]}"; do
		tail_log "$SLURM_LOG/slurmd-$node.log" 10
	done
	die "$failed"
fi

write_if_changed "$SLURM_DIR/env.sh" <<ENV
# Generated by scmon scripts/testenv/slurm-up.sh: source it before running
# Slurm clients (sinfo, sbatch, sacct, sacctmgr, sreport, scontrol). Every
# line is export KEY='value', so a Go test can also parse it directly.
export SLURM_CONF='$SLURM_CONF'
export SCMON_TEST_SLURM_DIR='$SLURM_DIR'
export SCMON_TEST_SLURM_CLUSTER='$SLURM_CLUSTER'
export SCMON_TEST_SLURM_JOBCOMP='$SLURM_JOBCOMP'
export SCMON_TEST_SLURM_JOBDIR='$SLURM_JOBS'
export SCMON_TEST_SLURM_USERS='${SLURM_TEST_USERS[*]}'
ENV
chmod 644 "$SLURM_DIR/env.sh"

sinfo >&2
log "slurm cluster $SLURM_CLUSTER up in $(elapsed "$start") s; source $SLURM_DIR/env.sh"
