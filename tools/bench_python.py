#!/usr/bin/env python3
"""Time the Python reference verdict over a corpus (see tools/bench_corpus.py).

    python3 tools/bench_python.py PATH

PATH holds one standard-base64 raw transaction per line.  Every line goes through
`reference_verdict` from tools/gen_fixtures.py (the same definition the fixtures use:
json.loads, Transaction.from_dict with schema validation, signature checks for all inputs,
distinct inputs).  Base64 decoding happens before the clock starts.  Prints the number of
transactions, how many were valid, total seconds and transactions per second.
"""

import base64
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gen_fixtures import reference_verdict  # noqa: E402


def main(argv) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    with open(argv[0], "r", encoding="ascii") as handle:
        raws = [base64.b64decode(line.strip()) for line in handle if line.strip()]
    valid = 0
    start = time.perf_counter()
    for raw in raws:
        if reference_verdict(raw)["valid"]:
            valid += 1
    elapsed = time.perf_counter() - start
    rate = len(raws) / elapsed if elapsed > 0 else float("inf")
    print(f"transactions: {len(raws)}")
    print(f"valid:        {valid}")
    print(f"total_s:      {elapsed:.3f}")
    print(f"tx_per_s:     {rate:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
