#!/bin/bash
# supervisor.sh NAME LOG -- COMMAND...   restarts COMMAND whenever it exits, logging each exit.
name=$1; log=$2; shift 3
trap 'kill -TERM $child 2>/dev/null; exit 0' TERM INT
n=0
while true; do
  n=$((n+1))
  echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) INFO  [supervisor] starting $name (attempt $n)" >> "$log"
  "$@" &
  child=$!
  wait $child; rc=$?
  if [ $rc -gt 128 ]; then
    sig=$((rc-128))
    echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) ERROR [supervisor] $name (pid $child) was killed by signal $sig ($(kill -l $sig 2>/dev/null)); restarting in 1s" >> "$log"
  else
    echo "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) ERROR [supervisor] $name (pid $child) exited with status $rc; restarting in 1s" >> "$log"
  fi
  sleep 1
done
