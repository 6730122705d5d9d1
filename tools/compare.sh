#!/usr/bin/env bash
# Measures `planetmint-stream check` against the Python reference (planetmint-transactions
# 0.8.4, through tools/bench_python.py's reference_verdict) on the same 10,000 distinct
# transactions, and the peak RSS of `check` on 10,000 and on 100,000 lines.
#
#   tools/compare.sh            (uses tools/.venv, made by tools/regen.sh)
#   VENV=/path/to/venv tools/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-tools/.venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "no venv at $VENV: run tools/regen.sh first" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cargo build --release --quiet
bin=target/release/planetmint-stream

"$PY" tools/bench_corpus.py "$tmp/10k.b64" 10000 >/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do cat "$tmp/10k.b64"; done >"$tmp/100k.b64"

echo "== Python reference (planetmint-transactions), 10,000 transactions"
"$PY" tools/bench_python.py "$tmp/10k.b64" | tee "$tmp/python.txt"
py_rate="$(awk '/tx_per_s/ {print $2}' "$tmp/python.txt")"

measure() { # file -> "seconds peak_kib"
    /usr/bin/time -f "%e %M" -o "$tmp/time.txt" "$bin" check "$1" >"$tmp/out.jsonl"
    cat "$tmp/time.txt"
}
echo "== planetmint-stream check, 10,000 transactions ($(nproc) cores)"
read -r secs rss10k < <(measure "$tmp/10k.b64")
valid="$(grep -c '"valid":true' "$tmp/out.jsonl" || true)"
rust_rate="$(awk -v s="$secs" 'BEGIN {printf "%.0f", 10000 / s}')"
echo "valid:        $valid"
echo "total_s:      $secs"
echo "tx_per_s:     $rust_rate"
echo "peak_rss_kib: $rss10k"
echo "== planetmint-stream check, 100,000 lines"
read -r secs100k rss100k < <(measure "$tmp/100k.b64")
echo "total_s:      $secs100k"
echo "peak_rss_kib: $rss100k"
echo "== summary"
awk -v r="$rust_rate" -v p="$py_rate" 'BEGIN {printf "speed-up: %.1fx the Python reference\n", r / p}'
echo "peak RSS: ${rss10k} KiB on 10,000 lines, ${rss100k} KiB on 100,000 lines"
