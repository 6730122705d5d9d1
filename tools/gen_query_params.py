#!/usr/bin/env python3
"""What Planetmint's own HTTP API accepts as query-parameter values, for the streams' filters.

Usage (from the repository root)::

    /work/venv/bin/python tools/gen_query_params.py          # writes fixtures/query_params.jsonl
    /work/venv/bin/python tools/gen_query_params.py --check  # compare with the file instead

Needs ``planetmint==2.5.3`` installed with ``pip install --no-deps`` next to
tools/requirements.txt (its declared dependencies conflict with the pins there; the module used
here imports only ``re`` and three constants of planetmint-transactions).  Every verdict comes
from calling Planetmint's functions; nothing here is derived from the Rust code.  The real ids
and keys are read from the recorded chains (``fixtures/chains/cometbft-0.38.*``, made by
tools/gen_chains.py), so regenerate those first.  Deterministic: byte-identical on every run.

Output ``fixtures/query_params.jsonl``, one line per value, ``json.dumps(obj,
separators=(",", ":"))`` (non-ASCII as ``\\uXXXX`` escapes)::

    {"kind": "transaction_id" | "public_key" | "operation", "value": V,
     "accepted": bool, "normalized": <what the validator returns, or null when it raises>}

The rules, planetmint/web/views/parameters.py of planetmint 2.5.3, verbatim::

    def valid_txid(txid):
        if re.match("^[a-fA-F0-9]{64}$", txid):
            return txid.lower()
        raise ValueError("Invalid hash")

    def valid_ed25519(key):
        if re.match("^[1-9a-zA-Z]{43,44}$", key) and not re.match(".*[Il0O]", key):
            return key
        raise ValueError("Invalid base58 ed25519 key")

    def valid_operation(op):
        op = op.upper()
        if op == "CREATE":
            return "CREATE"
        if op == "TRANSFER":
            return "TRANSFER"
        raise ValueError('Operation must be "CREATE" or "TRANSFER"')

``transaction_id`` lines are valid_txid's verdicts, ``public_key`` lines valid_ed25519's,
``operation`` lines valid_operation's.  Where Planetmint uses them: GET /api/v1/outputs
``public_key`` (valid_ed25519), GET /api/v1/transactions ``operation`` (valid_operation) and
``asset_ids`` (valid_txid_list: ``txids.split(",")``, every piece must match valid_txid's
regex, the pieces are lower-cased; an empty piece fails).  valid_txid itself is used by no
view of 2.5.3 (GET /api/v1/blocks takes ``transaction_id`` as any string); it is the
single-value form of the asset_ids rule.

Consequences the values below pin down:
- ``$`` also matches just before a final ``"\\n"``: an id or key followed by one newline is
  accepted and returned WITH the newline (ids lower-cased).  ``^`` without MULTILINE anchors at
  the start only, so a leading newline fails.
- The classes are ASCII ranges: full-width or accented letters and digits fail.
- valid_ed25519 does not decode base58: any 43-44 characters of ``[1-9a-zA-Z]`` without
  ``I``, ``l``, ``0``, ``O`` pass, even ones that decode to no 32-byte key (``"z" * 44``).
- valid_operation accepts only CREATE and TRANSFER, in any case; the five other operations
  planetmint-transactions registers (COMPOSE, DECOMPOSE, VALIDATOR_ELECTION,
  CHAIN_MIGRATION_ELECTION, VOTE) fail in every spelling.  ``str.upper`` is Unicode:
  ``"tranſfer"`` (U+017F LATIN SMALL LETTER LONG S upper-cases to ``S``) is TRANSFER.
- Nothing is trimmed: surrounding spaces fail.
"""

import argparse
import json
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(_HERE)
OUT = os.path.join(ROOT, "fixtures", "query_params.jsonl")
CHAIN = os.path.join(ROOT, "fixtures", "chains", "cometbft-0.38")

try:
    from planetmint.web.views import parameters
    from transactions import Transaction  # registers the operation classes
except ImportError as exc:  # pragma: no cover - environment dependent
    sys.exit(f"{exc}: install planetmint==2.5.3 with pip --no-deps next to tools/requirements.txt")

VALIDATORS = {
    "transaction_id": parameters.valid_txid,
    "public_key": parameters.valid_ed25519,
    "operation": parameters.valid_operation,
}


def read_jsonl(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def real_ids():
    """The ids of the first CREATE and the first TRANSFER the recorded chain publishes."""
    published = read_jsonl(CHAIN + ".valid_transactions.jsonl")
    transfer = next(p for p in published if p["asset_id"] != p["transaction_id"])
    return published[0]["transaction_id"], transfer["transaction_id"]


def real_keys():
    """Two 44-character and one 43-character output key of the recorded chain."""
    keys = sorted({k for line in read_jsonl(CHAIN + ".bodies.jsonl") for o in line["transaction"]["outputs"] for k in o["public_keys"]})
    long_keys = [k for k in keys if len(k) == 44]
    return long_keys[0], long_keys[1], next(k for k in keys if len(k) == 43)


def alternate_case(s):
    return "".join(c.lower() if i % 2 else c.upper() for i, c in enumerate(s))


def transaction_id_values():
    tx_id, transfer_id = real_ids()
    return [
        tx_id,
        transfer_id,
        tx_id.upper(),
        alternate_case(tx_id),
        tx_id[:63],
        tx_id + "0",
        tx_id[:63] + "g",
        "",
        tx_id + "\n",
        tx_id.upper() + "\n",
        "\n" + tx_id,
        tx_id + "\r\n",
        tx_id + " ",
        " " + tx_id,
        "0x" + tx_id[:62],
        tx_id[:63] + "\uff10",  # FULLWIDTH DIGIT ZERO
        "0" * 64,
        "F" * 64,
        "\u00e9" * 64,
        tx_id + "," + transfer_id,
    ]


def public_key_values():
    key, other, short = real_keys()
    return [
        key,
        other,
        short,
        key[:42],
        key + "1",
        key[:-1] + "0",
        key[:-1] + "O",
        key[:-1] + "I",
        key[:-1] + "l",
        "0" + short,
        "",
        key + "\n",
        key + " ",
        " " + key,
        "\n" + key,
        real_ids()[0],
        key[:-1] + "\u00e9",
        key[:-1] + "+",
        "1" * 43,
        "z" * 44,
    ]


def operation_values():
    names = sorted(Transaction.type_registry)
    assert len(names) == 7, names
    spellings = [v for name in names for v in (name, name.lower(), alternate_case(name))]
    return spellings + [
        "create ",
        " CREATE",
        "CREATE\n",
        "FOO",
        "",
        "tran\u017ffer",  # LATIN SMALL LETTER LONG S: upper() gives "TRANSFER"
        "cr\u00e9ate",
        "\uff43\uff52\uff45\uff41\uff54\uff45",  # full-width "create"
        "CREATE,TRANSFER",
    ]


def verdict(kind, value):
    try:
        normalized = VALIDATORS[kind](value)
    except ValueError:
        return {"kind": kind, "value": value, "accepted": False, "normalized": None}
    return {"kind": kind, "value": value, "accepted": True, "normalized": normalized}


def render():
    values = [("transaction_id", v) for v in transaction_id_values()]
    values += [("public_key", v) for v in public_key_values()]
    values += [("operation", v) for v in operation_values()]
    assert len(set(values)) == len(values), "a value is listed twice"
    return "".join(json.dumps(verdict(kind, v), separators=(",", ":")) + "\n" for kind, v in values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the file on disk instead of writing")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not os.path.exists(OUT) or open(OUT, encoding="utf-8").read() != text:
            sys.exit(f"stale: {os.path.relpath(OUT, ROOT)}")
        print("up to date")
        return
    with open(OUT, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    lines = text.splitlines()
    accepted = sum(1 for line in lines if json.loads(line)["accepted"])
    print(f"{os.path.relpath(OUT, ROOT)}: {len(lines)} values, {accepted} accepted")


if __name__ == "__main__":
    main()
