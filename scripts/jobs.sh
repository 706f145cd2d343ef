# Job control for scripts/run-demo (sourced): every background job gets its own process group,
# so stopping a job stops everything it started, even the children of a subshell.
#
#   start a job:  cmd & job_started $!          (a job that stops its own children gracefully,
#                 cmd & job_started $! graceful  the django-q2 cluster, gets SIGTERM alone)
#   stop all:     stop_jobs   (SIGTERM, then SIGKILL to each group still alive after
#                              JOBS_STOP_SECONDS; a second Ctrl-C kills at once)
set -m
JOBS_STOP_SECONDS=${JOBS_STOP_SECONDS:-15}
job_groups=()
job_graceful=()

job_started() {  # $1: the job's pid (= its process group id under set -m); $2: "graceful"
  job_groups+=("$1")
  if [ "${2:-}" = graceful ]; then job_graceful+=("$1"); fi
}

jobs_alive() {  # the process groups that still have a process
  local g
  for g in "${job_groups[@]}"; do
    if kill -0 -- "-$g" 2>/dev/null; then echo "$g"; fi
  done
}

stop_jobs() {
  local g left deadline force=0
  [ ${#job_groups[@]} -gt 0 ] || return 0
  set +m  # the groups stay; bash no longer prints a "Terminated" line per job
  trap 'force=1' INT TERM
  for g in "${job_groups[@]}"; do
    if [[ " ${job_graceful[*]} " == *" $g "* ]]; then
      kill -TERM "$g" 2>/dev/null || true
    else
      kill -TERM -- "-$g" 2>/dev/null || true
    fi
  done
  deadline=$((SECONDS + JOBS_STOP_SECONDS))
  while left=$(jobs_alive) && [ -n "$left" ] && [ "$force" = 0 ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.2
  done
  for g in $(jobs_alive); do
    echo "stopping: process group $g still running after ${JOBS_STOP_SECONDS}s, killing it" >&2
    kill -KILL -- "-$g" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  job_groups=()
  job_graceful=()
}
