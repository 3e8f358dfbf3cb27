#!/usr/bin/env bash
# Quick start, command 1: set up a virtual environment, install yuqing, and run the demo: a local
# site that looks like the real sources, crawled, analysed and reported into an outbox, offline.
#   ./start.sh            the demo (about a minute; the first run also builds the sentiment model)
#   ./start.sh run        the daemon on the shipped config and the embedded default (SQLite + outbox)
#   ./start.sh ARGS…      any other `yuqing` command, e.g. ./start.sh doctor
set -euo pipefail
cd "$(dirname "$0")"
source ./setup-env.sh
if [ "$#" -eq 0 ]; then
  exec .venv/bin/yuqing demo
fi
if [ "$1" = "run" ]; then
  .venv/bin/yuqing init
fi
exec .venv/bin/yuqing "$@"
