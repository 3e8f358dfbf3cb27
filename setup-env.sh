# Sourced by start.sh and test.sh: create .venv (Python 3.11+) and install yuqing into it, once per
# change of pyproject.toml. YUQING_EXTRAS selects optional extras (e.g. "test").
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Error: yuqing needs Python 3.11 or newer; found: $("$PYTHON" --version 2>&1)" >&2
  echo "Hint: install python3.11 (or newer) and run again, or set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv || { echo "Error: could not create .venv; Hint: apt-get install python3-venv" >&2; exit 1; }
fi
spec="."
[ -n "${YUQING_EXTRAS:-}" ] && spec=".[${YUQING_EXTRAS}]"
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)-${YUQING_EXTRAS:-base}"
if [ ! -f "$stamp" ]; then
  echo "Installing yuqing${YUQING_EXTRAS:+ with extras $YUQING_EXTRAS} into .venv …" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  .venv/bin/python -m pip install --quiet -e "$spec"
  touch "$stamp"
fi
