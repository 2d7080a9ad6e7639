#!/usr/bin/env bash
# install.sh: install (with apt-get) every Debian package that scmon's
# end-to-end tests and the other testenv scripts need: Slurm 22.05 (slurmctld,
# slurmd, slurmdbd, client tools), munge, MariaDB, Prometheus (server and
# promtool), VictoriaMetrics (single node and vmagent), PostgreSQL, Chromium
# with ChromeDriver, and the small tools the scripts use. Non-interactive;
# package maintainer scripts are kept from starting services (a policy-rc.d
# that exits 101 is in place during the install); safe to run again when
# everything is already installed.
#
# Usage: install.sh [--if-needed]
#   --if-needed  do nothing (no apt-get update) when all packages are present.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_root

# The Grafana data source's frontend (grafana-datasource/scripts/test-frontend.sh)
# builds with Node.js and npm: the machine's own when it has them, else
# Debian's (nodejs 18, npm 9).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	log "apt-get install nodejs npm"
	apt-get -o DPkg::Lock::Timeout=300 -q update
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends install nodejs npm
fi

if [[ "${1:-}" == "--if-needed" ]] && packages_installed; then
	log "all test-environment packages already installed"
	exit 0
fi

start="$(now_ms)"
export DEBIAN_FRONTEND=noninteractive
export NEEDRESTART_MODE=a

# Keep maintainer scripts from starting daemons: there is no init system to
# manage them and the testenv scripts start their own private instances.
policy=/usr/sbin/policy-rc.d
backup=""
if [[ -e "$policy" ]]; then
	backup="$(mktemp)"
	cp -p "$policy" "$backup"
fi
restore_policy() {
	if [[ -n "$backup" ]]; then
		cp -p "$backup" "$policy"
		rm -f "$backup"
	else
		rm -f "$policy"
	fi
}
trap restore_policy EXIT
printf '#!/bin/sh\n# written by scmon scripts/testenv/install.sh for the install only\nexit 101\n' >"$policy"
chmod 755 "$policy"

# Wait (rather than fail) while another apt or dpkg holds the lock.
lock_opt=(-o DPkg::Lock::Timeout=300)
apt_opts=("${lock_opt[@]}" -y -q -o Dpkg::Options::=--force-confdef
	-o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0 --no-install-recommends)

log "apt-get update"
apt-get "${lock_opt[@]}" -q update
log "apt-get install ${TESTENV_PACKAGES[*]}"
apt-get "${apt_opts[@]}" install "${TESTENV_PACKAGES[@]}"

packages_installed || die "some packages are still missing after apt-get install"

for bin in slurmctld slurmd slurmdbd sbatch sacct sacctmgr sreport munged mariadbd \
	mariadb-install-db prometheus promtool victoria-metrics vmagent psql chromium chromedriver setpriv ss curl; do
	command -v "$bin" >/dev/null || die "$bin not found after install"
done
[[ -n "$(compgen -G '/usr/lib/postgresql/*/bin/postgres')" ]] || die "postgres server binary not found"

log "install done in $(elapsed "$start") s"
