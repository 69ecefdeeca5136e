#!/usr/bin/env bash
# The seed's start script: all three servers (9001, 9002, 9003), port check first, Ctrl+C stops all.
exec cargo run --release --quiet -p opsmcp -- up "$@"
