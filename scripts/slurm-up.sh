#!/usr/bin/env bash
# slurm-up.sh starts a one-node Slurm (munge, slurmctld, slurmd) for gompi's Slurm tests and
# for trying gompi under srun/salloc by hand (docs/SLURM.md). Root only. It installs slurm and
# munge with apt when they are missing, writes its configuration under $GOMPI_SLURM_DIR
# (default /tmp/gompi-slurm), and waits until the node is idle. `scripts/slurm-up.sh stop` stops
# the daemons it started. Safe to run twice: a running Slurm that answers sinfo is left alone.
#
# The tests find the running Slurm by `sinfo`; they skip with a loud message when there is none.
set -euo pipefail
dir=${GOMPI_SLURM_DIR:-/tmp/gompi-slurm}

stop() {
  for p in slurmd slurmctld munged; do
    if [ -f "$dir/$p.pid" ]; then kill "$(cat "$dir/$p.pid")" 2>/dev/null || true; rm -f "$dir/$p.pid"; fi
  done
}
if [ "${1:-}" = stop ]; then stop; exit 0; fi

if [ "$(id -u)" != 0 ]; then echo "slurm-up.sh: needs root" >&2; exit 1; fi
if command -v sinfo >/dev/null 2>&1 && sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mix|alloc'; then
  echo "slurm-up.sh: a Slurm is already running: $(sinfo -h -o '%N %T %c')"; exit 0
fi
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

mkdir -p "$dir/state" "$dir/spool" "$dir/log"
# munge: a fresh key, its own run directory, started as the munge user.
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  head -c 1024 /dev/urandom >/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
if ! munge -n </dev/null >/dev/null 2>&1; then
  su -s /bin/sh munge -c "munged --pid-file=/run/munge/munged.pid" 
  cp /run/munge/munged.pid "$dir/munged.pid"
fi

host=$(hostname -s)
mkdir -p /etc/slurm
cat >/etc/slurm/slurm.conf <<EOF
# written by gompi's scripts/slurm-up.sh: a one-node Slurm for tests
ClusterName=gompi
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SchedulerType=sched/backfill
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
InactiveLimit=0
KillWait=5
MinJobAge=30
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
EOF

slurmctld -i -f /etc/slurm/slurm.conf
slurmd -f /etc/slurm/slurm.conf
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mix|alloc'; then
    echo "slurm-up.sh: Slurm $(sinfo -V | cut -d' ' -f2) running: $(sinfo -h -o '%N %T %c')"; exit 0
  fi
  sleep 0.5
done
echo "slurm-up.sh: the node did not become idle in 30 s:" >&2
sinfo >&2 || true
tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
exit 1
