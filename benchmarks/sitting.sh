#!/usr/bin/env bash
# Runs one measurement sitting on the shared team machine: records the load, pauses the
# reproduction engineer's long experiments (release binaries under /work/exp/bin) for the
# duration of the command, and resumes them afterwards, always (trap), even if the command
# fails or is interrupted. Usage: benchmarks/sitting.sh COMMAND [ARGS...]
set -u
resume() { pkill -CONT -f /work/exp/bin/ulmfit 2>/dev/null; echo "sitting: experiments resumed ($(date +%T))" >&2; }
trap resume EXIT INT TERM
echo "sitting: $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg); busiest processes:" >&2
ps -eo pcpu,comm --sort=-pcpu | sed -n 2,6p >&2
pkill -STOP -f /work/exp/bin/ulmfit 2>/dev/null && echo "sitting: experiments paused" >&2
"$@"
status=$?
echo "sitting: done $(date +%T) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exit $status
