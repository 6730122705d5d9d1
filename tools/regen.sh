#!/usr/bin/env sh
# Regenerate fixtures/ from Planetmint's own Python libraries.
#
#   tools/regen.sh            creates tools/.venv (once), installs tools/requirements.txt,
#                             runs tools/gen_fixtures.py (writes fixtures/*.jsonl) and
#                             tools/gen_chains.py (writes fixtures/chains/: drives Planetmint's
#                             ABCI application on a private Tarantool, so it needs a `tarantool`
#                             server on PATH, e.g. Debian's package) and
#                             tools/gen_query_params.py (writes fixtures/query_params.jsonl)
#   PYTHON=python3.11 VENV=/tmp/pmvenv tools/regen.sh   to choose interpreter / venv dir
#
# The fixtures depend on Python 3.11 behaviour (json module, int digit limit), so prefer it.
set -eu
cd "$(dirname "$0")/.."
command -v tarantool >/dev/null 2>&1 || { echo "tools/regen.sh: no tarantool server on PATH (tools/gen_chains.py runs Planetmint's application on one)" >&2; exit 2; }
if [ -z "${PYTHON:-}" ]; then
    if command -v python3.11 >/dev/null 2>&1; then PYTHON=python3.11; else PYTHON=python3; fi
fi
VENV="${VENV:-tools/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r tools/requirements.txt
# planetmint itself for its query-parameter validators and its ABCI application; its declared
# dependencies conflict with the pins above, and requirements.txt lists the ones those import.
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps planetmint==2.5.3
"$VENV/bin/python" tools/gen_fixtures.py "$@"
"$VENV/bin/python" tools/gen_chains.py
exec "$VENV/bin/python" tools/gen_query_params.py
