#!/bin/sh
# tap-run.sh [--reject PATTERN] DESCRIPTION COMMAND [ARGS...]
# Runs one packaging check and reports it as a one-case TAP program.
# Without --reject the check passes when COMMAND succeeds; with it, when
# COMMAND fails and its output contains PATTERN (a broken file is refused
# for the expected reason, not for any reason).
set -u
pattern=""
if [ "$1" = "--reject" ]; then
  pattern=$2
  shift 2
fi
desc=$1
shift
echo "1..1"
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
if [ -z "$pattern" ]; then
  [ $rc -eq 0 ] && ok=1 || ok=0
else
  ok=0
  if [ $rc -ne 0 ] && printf '%s\n' "$out" | grep -qF -- "$pattern"; then
    ok=1
  fi
fi
if [ $ok -eq 1 ]; then
  echo "ok 1 - $desc"
else
  echo "not ok 1 - $desc (exit $rc)"
fi
exit 0
