#!/usr/bin/env bash
# Quick start, command 1: set up a virtual environment, install yuqing, and run the main job on the
# embedded default (SQLite + an outbox folder of .eml files). Extra arguments go to `yuqing`.
set -euo pipefail
cd "$(dirname "$0")"
source ./setup-env.sh
if [ "$#" -gt 0 ]; then
  exec .venv/bin/yuqing "$@"
fi
.venv/bin/yuqing init
.venv/bin/yuqing doctor
