#!/usr/bin/env python3
"""Compare the JSON shapes of the recorded chains with real CometBFT RPC recordings.

Usage (from the repository root, by hand when regenerating the chains)::

    python3 tools/check_chain_shapes.py CONFORMANCE_DIR [CHAINS_DIR]

CONFORMANCE_DIR holds ``v0_34/`` and ``v0_38/`` with recorded node messages
(``incoming_status.json``, ``incoming_block_at_height_10.json``,
``incoming_block_results_at_height_10.json``, ``incoming_subscribe_newblock_0.json``, and for
0.38 ``incoming_block_results_with_codes_dydx.json`` / ``..._with_failed_txs_sei.json``).
CHAINS_DIR defaults to ``fixtures/chains``.  CI has no recordings; this is a generation-time aid.

The comparison is structural and recursive: objects must have the same keys, values the same
JSON type (null, boolean, number, string, array, object), arrays are compared by their first
elements (skipped when either side is empty).  ``null`` against any other type is reported as
a NOTE (nullable field), not as a difference, and so is the top-level JSON-RPC ``id`` (it
echoes the request's id: a string in most recordings, -1 here).  Comparisons against the Sei
recording (a forked node) are informational.  NewBlock events are built from the chain lines
with `new_block_event` below (standard library only; tools/gen_chains.py imports it).

Exit status: 1 if any DIFF was printed, else 0.
"""

import json
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)

CHAINS = {"v0_34": ("0.34", "tendermint-0.34"), "v0_38": ("0.38", "cometbft-0.38")}


def new_block_event(dialect, line, subscription_id=1):
    """The NewBlock event a node of `dialect` sends for a chain line (the derivation a test node
    uses; tools/gen_chains.py imports this one definition).

    0.34: ``{"block", "result_begin_block": {}, "result_end_block": {"validator_updates": null}}``
    (per-transaction codes are not in 0.34 events).  0.38: ``{"block", "block_id",
    "result_finalize_block"}`` where ``result_finalize_block`` has ``tx_results`` =
    ``block_results.txs_results`` (omitted for an empty block), ``validator_updates`` ``[]`` and
    ``app_hash`` = ``block_results.app_hash`` (omitted while empty), as CometBFT's omitempty
    encoding of ResponseFinalizeBlock does."""
    block = line["block"]["result"]["block"]
    if dialect == "0.34":
        value = {"block": block, "result_begin_block": {}, "result_end_block": {"validator_updates": None}}
    else:
        br = line["block_results"]["result"]
        fb = {}
        if br["txs_results"]:
            fb["tx_results"] = br["txs_results"]
        fb["validator_updates"] = []
        if br["app_hash"]:
            fb["app_hash"] = br["app_hash"]
        value = {"block": block, "block_id": line["block"]["result"]["block_id"], "result_finalize_block": fb}
    return {
        "jsonrpc": "2.0",
        "id": subscription_id,
        "result": {
            "query": "tm.event = 'NewBlock'",
            "data": {"type": "tendermint/event/NewBlock", "value": value},
            "events": {"tm.event": ["NewBlock"]},
        },
    }


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


# Fields Go omits when empty (json:",omitempty"): a key present on one side only is a NOTE.
OMITEMPTY = {
    "result_finalize_block": {"events", "tx_results", "consensus_param_updates", "app_hash"},
    "result_begin_block": {"events"},
    "result_end_block": {"events", "consensus_param_updates"},
    "txs_results[0]": {"code", "data", "log", "info", "gas_wanted", "gas_used", "events", "codespace"},
    "tx_results[0]": {"code", "data", "log", "info", "gas_wanted", "gas_used", "events", "codespace"},
}


def compare(ours, theirs, path, out):
    """Append (level, path, message) to out."""
    to, tt = jtype(ours), jtype(theirs)
    if path == "$.id":
        if to != tt:
            out.append(("NOTE", path, f"ours {to} ({ours!r}), recorded {tt}"))
        return
    if to != tt:
        if "null" in (to, tt):
            out.append(("NOTE", path, f"ours {to}, recorded {tt} (nullable)"))
        else:
            out.append(("DIFF", path, f"type: ours {to}, recorded {tt}"))
        return
    if to == "object":
        missing = sorted(set(theirs) - set(ours))
        extra = sorted(set(ours) - set(theirs))
        optional = OMITEMPTY.get(path.rsplit(".", 1)[-1], set())
        for name, keys in (("missing in ours", missing), ("only in ours", extra)):
            soft = [k for k in keys if k in optional]
            if soft:
                out.append(("NOTE", path, f"omitempty keys {name}: {soft}"))
        missing = [k for k in missing if k not in optional]
        extra = [k for k in extra if k not in optional]
        if missing:
            out.append(("DIFF", path, f"keys missing in ours: {missing}"))
        if extra:
            out.append(("DIFF", path, f"keys only in ours: {extra}"))
        for k in sorted(set(ours) & set(theirs)):
            compare(ours[k], theirs[k], f"{path}.{k}", out)
    elif to == "array":
        if ours and theirs:
            compare(ours[0], theirs[0], f"{path}[0]", out)
        elif ours or theirs:
            out.append(("NOTE", path, f"array lengths ours {len(ours)}, recorded {len(theirs)}: elements not compared"))


def load_chain(path):
    with open(path, encoding="utf-8") as fh:
        lines = [json.loads(x) for x in fh if x.strip()]
    return lines[0]["status"], lines[1:]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    conf = sys.argv[1]
    chains_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "fixtures", "chains")
    n_diff = 0
    for sub, (dialect, stem) in CHAINS.items():
        rec_dir = os.path.join(conf, sub)
        status, blocks = load_chain(os.path.join(chains_dir, f"{stem}.chain.jsonl"))
        empty = next(b for b in blocks if not b["block"]["result"]["block"]["data"]["txs"])
        empty_app = next(
            b for b in blocks if not b["block"]["result"]["block"]["data"]["txs"] and b["block"]["result"]["block"]["header"]["app_hash"]
        )
        full = max(blocks, key=lambda b: len(b["block"]["result"]["block"]["data"]["txs"]))
        mixed = next(b for b in blocks if any(r.get("code") for r in (b["block_results"]["result"]["txs_results"] or [])))

        def rec(name):
            with open(os.path.join(rec_dir, name), encoding="utf-8") as fh:
                return json.load(fh)

        cases = [
            ("status", status, "incoming_status.json", False),
            (f"block h={empty['height']} (empty)", empty["block"], "incoming_block_at_height_10.json", False),
            (f"block h={full['height']}", full["block"], "incoming_block_at_height_10.json", False),
            (f"block_results h={empty['height']} (empty)", empty["block_results"], "incoming_block_results_at_height_10.json", False),
            (f"block_results h={mixed['height']}", mixed["block_results"], "incoming_block_results_at_height_10.json", False),
            (f"NewBlock h={empty['height']} (empty)", new_block_event(dialect, empty), "incoming_subscribe_newblock_0.json", False),
            (f"NewBlock h={empty_app['height']} (empty, app hash set)", new_block_event(dialect, empty_app), "incoming_subscribe_newblock_0.json", False),
            (f"NewBlock h={mixed['height']}", new_block_event(dialect, mixed), "incoming_subscribe_newblock_0.json", False),
        ]
        if dialect == "0.38":
            cases += [
                (f"block_results h={mixed['height']}", mixed["block_results"], "incoming_block_results_with_codes_dydx.json", False),
                (f"block_results h={mixed['height']}", mixed["block_results"], "incoming_block_results_with_failed_txs_sei.json", True),
            ]
        print(f"== {sub}: {stem}.chain.jsonl ({len(blocks)} blocks) against {rec_dir}")
        for label, ours, rec_name, informational in cases:
            out = []
            compare(ours, rec(rec_name), "$", out)
            diffs = [o for o in out if o[0] == "DIFF"]
            tag = "same shape" if not diffs else f"{len(diffs)} difference(s)"
            print(f"-- {label} vs {rec_name}: {tag}{' (informational)' if informational else ''}")
            for level, path, msg in out:
                if informational and level == "DIFF":
                    level = "INFO"
                print(f"   {level} {path}: {msg}")
            if not informational:
                n_diff += len(diffs)
    print(f"{n_diff} difference(s)")
    sys.exit(1 if n_diff else 0)


if __name__ == "__main__":
    main()
