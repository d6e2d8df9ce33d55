# shellcheck shell=bash
# Shared by .ci/slurm.sh (one node on localhost) and .ci/slurm3.sh (three namespace nodes): installing SLURM,
# logging, bounded waits, daemons found and stopped by PID file only (never by name), and the slurm.conf settings
# both clusters use. Sourced; the caller sets LOG_NAME, GRACE_S and (optionally) WAIT_STEP_S. Each script's `up`
# installs what it needs itself, so either works alone on a fresh machine.

# What both clusters run: munged (and the munge user its files belong to), slurmctld, slurmd, the client tools.
# shellcheck disable=SC2034 # used by the scripts that source this file
SLURM_PACKAGES=(munge slurmctld slurmd slurm-client)

log() { printf '[%s %(%H:%M:%S)T] %s\n' "$LOG_NAME" -1 "$*" >&2; }

# install_packages <package...>: apt-get install those not installed yet (Debian, root), their services kept from
# starting with the packaged config; SKIP_APT=1 fails instead. Bounded; the service policy is removed whatever
# apt-get did.
install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "${SKIP_APT:-0}" = 1 ]; then log "missing packages ${missing[*]} and SKIP_APT=1"; return 1; fi
  # Package scripts must not start the services (they would use the packaged config): deny them for the install.
  local made_policy=0 rc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; made_policy=1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { timeout 300 apt-get update -qq &&
    timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } || rc=$?
  if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  if [ "$rc" -ne 0 ]; then log "apt-get install ${missing[*]} failed (status $rc)"; fi
  return "$rc"
}

# wait_for <seconds> <cmd...>: retry every WAIT_STEP_S until cmd succeeds; each try itself is capped at 10 s.
wait_for() {
  local t=$1; shift
  local end=$((SECONDS + t))
  until timeout 10 "$@" >/dev/null 2>&1; do
    if ((SECONDS >= end)); then log "timeout (${t}s) waiting for: $*"; return 1; fi
    sleep "${WAIT_STEP_S:-0.5}"
  done
}

# is_live <pid> <comm>: the process exists under that name and is not a zombie.
is_live() {
  [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# pid_of <pidfile> <comm>: print the PID if the file names a live process called <comm> (not a zombie).
pid_of() {
  local pf=$1 comm=$2 pid
  [ -s "$pf" ] || return 1
  pid=$(tr -dc '0-9' <"$pf")
  [ -n "$pid" ] && is_live "$pid" "$comm" || return 1
  echo "$pid"
}

# stop <pidfile> <comm>: SIGCONT (a test may have stopped it), SIGTERM, then SIGKILL after GRACE_S; remove the
# PID file either way. Waits on the PID read once (daemons delete their own PID file early in shutdown).
stop() {
  local pf=$1 comm=$2 pid
  if pid=$(pid_of "$pf" "$comm"); then
    log "stopping $comm (pid $pid)"
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
    local end=$((SECONDS + GRACE_S))
    while is_live "$pid" "$comm" && ((SECONDS < end)); do sleep 0.2; done
    if is_live "$pid" "$comm"; then
      log "$comm (pid $pid) still alive after ${GRACE_S}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      end=$((SECONDS + 5))
      while is_live "$pid" "$comm" && ((SECONDS < end)); do sleep 0.2; done
      is_live "$pid" "$comm" && log "$comm (pid $pid) survived SIGKILL"
    fi
  elif [ -e "$pf" ]; then
    log "stale PID file $pf (no live $comm): removed"
  fi
  rm -f "$pf"
}

# slurm.conf lines both test clusters share: no cgroups, no accounting, finished jobs visible to squeue for
# 10 min (the executor plugin polls with squeue: needs >= 3 x its init wait).
common_conf() {
  cat <<'CONF'
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SchedulerType=sched/backfill
MpiDefault=none
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SlurmctldTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
Waittime=0
CONF
}
