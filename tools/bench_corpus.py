#!/usr/bin/env python3
"""Write a benchmark corpus of distinct, valid, single-signature v3.0 transactions.

    python3 tools/bench_corpus.py OUT_PATH [N]      (N defaults to 10000)

One standard-base64 raw transaction per line (UTF-8 of json.dumps, exactly like the `raw`
field of fixtures/transactions.jsonl).  Deterministic: fixed key seeds, no randomness, so the
same N always gives the same file.  The mix alternates CREATE and TRANSFER (the TRANSFER
spends the CREATE just before it, to another key), so about half of each; every metadata
string is unique, hence every transaction is distinct.  Not committed: regenerate it.

A deterministic 1% sample is checked with `reference_verdict` (all lines with --verify-all).
"""

import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gen_fixtures import keypair, prepare_create, prepare_transfer, raw_of, reference_verdict, sign  # noqa: E402


def corpus(n: int):
    keys = [keypair(f"bench-{i}") for i in range(64)]
    created = None
    for i in range(n):
        owner = keys[i % len(keys)]
        if i % 2 == 0:
            tx = prepare_create([owner], data=f"bench asset {i}", metadata=f"bench create {i}")
            created = sign(tx, [owner])
            yield created
        else:
            prev_owner = keys[(i - 1) % len(keys)]
            recipient = keys[(i * 7 + 3) % len(keys)]
            tx = prepare_transfer(
                [(created, 0)], [([recipient.public_key], 1)], [created["id"]], metadata=f"bench transfer {i}"
            )
            yield sign(tx, [prev_owner])


def main(argv) -> int:
    args = [a for a in argv if not a.startswith("--")]
    if not args:
        print(__doc__)
        return 2
    path = args[0]
    n = int(args[1]) if len(args) > 1 else 10000
    verify_all = "--verify-all" in argv
    seen = set()
    with open(path, "w", encoding="ascii", newline="\n") as out:
        for i, tx in enumerate(corpus(n)):
            raw = raw_of(tx)
            assert raw not in seen
            seen.add(raw)
            if verify_all or i % 100 == 0:
                verdict = reference_verdict(raw)
                assert verdict["valid"], (i, verdict)
            out.write(base64.b64encode(raw).decode("ascii") + "\n")
    print(f"wrote {n} transactions to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
