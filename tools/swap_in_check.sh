#!/usr/bin/env bash
# Follows the README's "Swapping it in" (bare metal) step by step against a real Planetmint
# 2.5.3: its HTTP API (`planetmint start --web-api-only`, in a virtual environment, on a
# private Tarantool with Planetmint's own schema script), configured with the README's
# environment file, and this service replaying a recorded chain instead of following a
# node. A client then finds the streams as Planetmint documents it (GET Planetmint's API
# root, read `streams` and `streamedblocks`) and must receive exactly the recorded chain's
# messages on each stream. Before the swap-in, it shows the clash this service reports when
# it shares Planetmint's ports; after, it rolls back as the README says.
#
#   tools/swap_in_check.sh            # needs tarantool, python3 -m venv, cargo; ports 9984-9987
#
# PLANETMINT_VENV: a virtual environment with planetmint==2.5.3 (made in the temporary
# directory when unset: about a minute and a half from the package registry, no cache).
# PLANETMINT_STREAM_BIN: the binary (built with `cargo build` when unset).
# systemd and nginx are left out: the service tests verify the unit and run the snippet in
# a real nginx. Every process started here is stopped by its process group id at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

CHAIN=cometbft-0.38
PORTS=(9984 9985 9986 9987)
work=$(mktemp -d)
groups=()
cleanup() {
    for group in "${groups[@]}"; do
        kill -TERM -- "-$group" 2>/dev/null || true
    done
    sleep 1
    for group in "${groups[@]}"; do
        kill -KILL -- "-$group" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

# Starts "$@" in a process group of its own, output to $work/$name.log; sets $started.
start() {
    local name=$1
    shift
    setsid "$@" >"$work/$name.log" 2>&1 &
    started=$!
    groups+=("$started")
}

# Stops the process group $1 (SIGTERM) and waits for its leader; returns its status.
stop() {
    kill -TERM -- "-$1"
    local status=0
    wait "$1" || status=$?
    return "$status"
}

# Waits (at most 30 s) until $1 answers HTTP at all.
wait_http() {
    for _ in $(seq 300); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    fail "$1 never answered"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Runs this service with the environment file $1 and arguments "${@:2}".
stream() {
    (set -a && . "$1" && set +a && exec "$BIN" "${@:2}")
}

step "0. what this needs"
for port in "${PORTS[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        fail "port $port is in use; the README's ports must be free"
    fi
done
command -v tarantool >/dev/null || fail "no tarantool (Debian: apt-get install tarantool)"
if [ -z "${PLANETMINT_STREAM_BIN:-}" ]; then
    cargo build --quiet --locked --bin planetmint-stream
    BIN="${CARGO_TARGET_DIR:-target}/debug/planetmint-stream"
else
    BIN=$PLANETMINT_STREAM_BIN
fi
if [ -z "${PLANETMINT_VENV:-}" ]; then
    PLANETMINT_VENV=$work/venv
    began=$SECONDS
    python3 -m venv "$PLANETMINT_VENV"
    "$PLANETMINT_VENV/bin/pip" install --quiet --no-cache-dir planetmint==2.5.3
    echo "planetmint 2.5.3 installed in $((SECONDS - began)) s"
fi
PYTHON=$PLANETMINT_VENV/bin/python
echo "planetmint: $("$PLANETMINT_VENV/bin/pip" show planetmint | grep ^Version), $(tarantool --version | head -1)"

step "a private Tarantool with Planetmint's schema script"
schema=$("$PYTHON" -c 'import planetmint, os; print(os.path.join(os.path.dirname(planetmint.__file__), "backend/tarantool/opt/init.lua"))')
db_port=$(free_port)
mkdir "$work/tarantool"
sed "s/listen = 3303/listen = \"127.0.0.1:$db_port\"/" "$schema" >"$work/tarantool/init.lua"
grep -q "127.0.0.1:$db_port" "$work/tarantool/init.lua" || fail "the schema script no longer says listen = 3303"
start tarantool sh -c "cd '$work/tarantool' && exec tarantool init.lua"
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$db_port") 2>/dev/null && break
    sleep 0.1
done
# What Planetmint needs whatever the swap-in: its database. HOME: no ~/.planetmint here.
cat >"$work/planetmint-own.env" <<EOF
PLANETMINT_DATABASE_BACKEND=tarantool_db
PLANETMINT_DATABASE_HOST=127.0.0.1
PLANETMINT_DATABASE_PORT=$db_port
HOME=$work
EOF
planetmint() {
    # In $work: Planetmint writes planetmint.log and planetmint-errors.log where it runs.
    start planetmint sh -c "cd '$work' && set -a && . '$1' && set +a && exec '$PLANETMINT_VENV/bin/planetmint' start --web-api-only"
    planetmint_group=$started
    wait_http http://localhost:9984/
}

step "before: one environment file, Planetmint's names only: this service refuses its ports"
cp "$work/planetmint-own.env" "$work/planetmint.env.before-stream"
planetmint "$work/planetmint.env.before-stream"
clash=0
stream "$work/planetmint.env.before-stream" replay "fixtures/chains/$CHAIN.chain.jsonl" 2>"$work/clash.log" || clash=$?
echo "exit status $clash: $(cat "$work/clash.log")"
[ "$clash" = 2 ] && [ "$(wc -l <"$work/clash.log")" = 1 ] || fail "not exit status 2 and one line"
grep -q "the API port: it is in use, likely by Planetmint's HTTP API" "$work/clash.log" || fail "the line does not name Planetmint's HTTP API"
# Planetmint 2.5.3's own stream server dies at start (aiohttp.web is never imported): run
# its code with that import done, on the stream port, as a working one would hold it.
start planetmint_ws sh -c "set -a && . '$work/planetmint.env.before-stream' && set +a && exec '$PYTHON' -c '
import aiohttp.web, multiprocessing
from planetmint.web import websocket_server
websocket_server.start(multiprocessing.Queue())'"
planetmint_ws_group=$started
wait_http http://localhost:9985/
stream "$work/planetmint.env.before-stream" replay "fixtures/chains/$CHAIN.chain.jsonl" --api-bind localhost:9986 2>"$work/clash.log" || clash=$?
echo "exit status $clash: $(cat "$work/clash.log")"
[ "$clash" = 2 ] && [ "$(wc -l <"$work/clash.log")" = 1 ] || fail "not exit status 2 and one line"
grep -q "the stream port: it is in use, likely by Planetmint's built-in stream server" "$work/clash.log" || fail "the line does not name Planetmint's stream server"
stop "$planetmint_ws_group" || true
stop "$planetmint_group" || true

step "1. keep a copy (made above: planetmint.env.before-stream)"
step "2. the binary: $BIN"
step "3. the README's environment file, for both processes; restart Planetmint"
awk '/^   # \/etc\/planetmint\/planetmint.env/ { on = 1 } on && /^   ```/ { exit } on { sub(/^   /, ""); print }' README.md >"$work/readme.env"
[ -s "$work/readme.env" ] || fail "no environment file in the README"
cat "$work/readme.env"
cat "$work/planetmint-own.env" "$work/readme.env" >"$work/planetmint.env"
planetmint "$work/planetmint.env"
advertised=$(curl -s http://localhost:9984/ | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["api"]["v1"]["streams"])')
echo "Planetmint's API root: streams = $advertised"
[ "$advertised" = ws://localhost:9985/api/v1/streams/valid_transactions ] || fail "not what the README says"

step "4. start this service with that file, as its unit would (replaying $CHAIN instead of following a node)"
start stream sh -c "set -a && . '$work/planetmint.env' && set +a && exec '$BIN' replay 'fixtures/chains/$CHAIN.chain.jsonl' --interval 20ms"
stream_group=$started
wait_http http://localhost:9986/health
grep -m1 listening "$work/stream.log"

step "(5. nginx: not here; the service tests run the shipped snippet in a real nginx)"
step "6. check: /ready, then a client on each stream, found through Planetmint's API root"
echo "/ready: $(curl -s -w ' (%{http_code})' http://localhost:9986/ready)"
"$PYTHON" - "$CHAIN" <<'EOF'
import asyncio, json, sys
import aiohttp

chain = sys.argv[1]

def lines(stream):
    with open(f"fixtures/chains/{chain}.{stream}.jsonl") as f:
        return f.read().splitlines()

def refused(frame):
    frame = json.loads(frame)
    return frame["transaction_id"], frame["height"], frame["reason"]

async def receive(http, url, want):
    got = []
    async with http.ws_connect(url + "?from_height=1", heartbeat=None) as ws:
        while len(got) < want:
            message = await asyncio.wait_for(ws.receive(), 120)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise SystemExit(f"{url}: {message.type} after {len(got)} messages")
            got.append(message.data)
    return got

async def main():
    async with aiohttp.ClientSession() as http:
        async with http.get("http://localhost:9984/") as response:
            v1 = (await response.json())["api"]["v1"]
        # Planetmint's root names two streams; the third is their sibling.
        urls = {
            "valid_transactions": v1["streams"],
            "valid_blocks": v1["streamedblocks"],
            "refused_transactions": v1["streams"].rsplit("/", 1)[0] + "/refused_transactions",
        }
        expected = {stream: lines(stream) for stream in urls}
        got = await asyncio.gather(
            *(receive(http, urls[s], len(expected[s])) for s in urls)
        )
        for (stream, url), frames in zip(urls.items(), got):
            # A refused message says why in words the recorded file has not.
            if stream == "refused_transactions":
                same = [refused(f) for f in frames] == [refused(f) for f in expected[stream]]
                what = "the recorded ones (ids, heights, reasons)"
            else:
                same = frames == expected[stream]
                what = "the recorded ones, byte for byte"
            print(f"{url}: {len(frames)} messages, {what if same else 'DIFFERENT'}")
            if not same:
                raise SystemExit(1)

asyncio.run(main())
EOF

step "7. roll back: stop this service, restore the copy, restart Planetmint"
stop "$stream_group" || fail "planetmint-stream did not exit 0 on SIGTERM"
stop "$planetmint_group" || true
planetmint "$work/planetmint.env.before-stream"
echo "Planetmint's API root: streams = $(curl -s http://localhost:9984/ | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["api"]["v1"]["streams"])') (its own default)"
for port in 9985 9986; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "port $port still answers"; fi
done
echo "ports 9985 and 9986 are free again"
stop "$planetmint_group" || true
echo
echo "swap-in check passed"
