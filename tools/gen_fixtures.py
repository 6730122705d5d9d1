#!/usr/bin/env python3
"""Reference fixtures for `planetmint-stream`, computed by Planetmint's own Python code.

Every verdict, transaction id, canonical string and condition URI in ``fixtures/`` comes
from calls into the reference libraries (planetmint-transactions 0.8.4,
planetmint-cryptoconditions 1.2.2, python-rapidjson, PyNaCl), the code Planetmint 2.5
runs in ``deliver_tx``.  Only the deliberately malformed raw bytes are crafted by hand.
The Rust crate's tests compare against these files byte for byte and verdict for verdict.

Usage
-----
    tools/regen.sh                  # creates tools/.venv, installs tools/requirements.txt, runs this
    python3 tools/gen_fixtures.py   # same, if the packages are importable (or tools/.venv exists)

It writes (deterministically: fixed key seeds, fixed election seeds; re-running gives
byte-identical files):

    fixtures/transactions.jsonl   raw transaction bytes -> reference verdict, id, asset ids
    fixtures/canonical.jsonl      raw JSON -> transactions.common.utils.serialize(json.loads(raw))
    fixtures/conditions.jsonl     fulfillment URI + message -> planetmint_cryptoconditions results

and prints a summary table (name -> python_error) to stdout.  Each case declares the verdict
and error it is meant to produce; generation aborts if the library disagrees, so an
"invalid" case can never silently fail for an unintended reason.

Line formats
------------
transactions.jsonl:
    {"name", "raw": base64(raw bytes), "valid": bool, "transaction_id": str|null,
     "asset_id": str|null, "asset_ids": [str]|null, "operation": str|null,
     "python_error": str|null}
canonical.jsonl:
    {"name", "input": base64(raw JSON), "canonical": base64(utf-8 of serialize(...))|null,
     "sha3": hex|null, "error": str|null}
conditions.jsonl:
    {"name", "fulfillment": str, "message": hex, "parse_error": str|null, "type_id": int|null,
     "type_name": str|null, "condition_uri": str|null, "cost": int|null, "valid": bool}

The reference verdict is defined once, in ``reference_verdict`` below (tools/bench_python.py
imports it from here).
"""

import os
import sys

# --------------------------------------------------------------------------------------
# Bootstrap: re-exec with tools/.venv if the reference packages are not importable.
# --------------------------------------------------------------------------------------
_HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import transactions  # noqa: F401
except ImportError:  # pragma: no cover - environment dependent
    _venv_python = os.path.join(_HERE, ".venv", "bin", "python")
    if os.path.exists(_venv_python) and os.path.realpath(sys.executable) != os.path.realpath(_venv_python):
        os.execv(_venv_python, [_venv_python, os.path.abspath(__file__)] + sys.argv[1:])
    sys.exit("planetmint-transactions is not importable: run tools/regen.sh (creates tools/.venv)")

import base64
import contextlib
import io
import json
import logging
from copy import deepcopy
from hashlib import sha3_256, sha256

import base58
import rapidjson

# Importing the package registers all operation types exactly as Planetmint does
# (planetmint/application/validator.py: `from transactions import Transaction, Vote`).
from transactions import Transaction, ValidatorElection, ChainMigrationElection, Vote
from transactions.common import memoize
from transactions.common.crypto import PrivateKey
from transactions.common.input import Input
from transactions.common.output import Output
from transactions.common.transaction_link import TransactionLink
from transactions.common.utils import serialize, _fulfillment_from_details
from transactions.types.assets.compose import Compose
from transactions.types.assets.decompose import Decompose
from transactions.types.elections.validator_utils import election_id_to_public_key

from planetmint_driver.crypto import generate_keypair
from planetmint_driver import offchain

from planetmint_cryptoconditions import (
    Fulfillment,
    Condition,
    Ed25519Sha256,
    ThresholdSha256,
    PreimageSha256,
    PrefixSha256,
    RsaSha256,
)

# The schema module logs a warning whenever rapidjson rejects what jsonschema accepts
# (e.g. NaN); that is expected for several cases and only clutters the output.
logging.getLogger("transactions").setLevel(logging.ERROR)

ROOT = os.path.dirname(_HERE)
FIXTURES = os.path.join(ROOT, "fixtures")


# ======================================================================================
# The reference verdict
# ======================================================================================


class ScriptInvalid(Exception):
    """Marker: the transaction's zenroom script did not validate (Validator.validate_script)."""


class InvalidSignatureMarker(Exception):
    """Marker: `_inputs_valid` returned False (recorded as "InvalidSignature")."""


class DoubleSpendMarker(Exception):
    """Marker: two inputs fulfill the same (transaction_id, output_index) link."""


def _clear_library_caches():
    """Reset every memoization cache of planetmint-transactions.

    `Transaction.from_dict` is memoized on an `HDict` keyed by the body's "id" (equality is
    dict equality, under which 1 == 1.0 == True), `to_dict` is memoized on the id, and
    `_input_valid` is an lru_cache keyed on the transaction (hashed by id) and the input.
    Clearing them before every verdict guarantees that no case's verdict leaks into another
    (several cases deliberately share an id)."""
    memoize.from_dict.cache_clear()
    memoize.to_dict.cache_clear()
    Transaction._input_valid.cache_clear()


def planetmint_transaction_id(tx):
    """The id Planetmint computes for a decoded body, or None if it cannot compute one.

    This is `Transaction.validate_id`'s computation applied to the `local_dict` that
    `Transaction.from_dict` builds.  The `local_dict` lines below are copied from
    transactions/common/transaction.py `Transaction.from_dict` (0.8.4); the rest calls the
    library.  Note what it implies: only inputs, outputs, operation (defaulting to "CREATE"
    when the key is missing), metadata, asset|assets, version, id and script are hashed;
    unknown top-level keys are not.  A version "2.0" body that has "assets" but no "asset"
    is hashed with that value under the key "asset".
    """
    if not isinstance(tx, dict):
        return None
    try:
        # --- copied from Transaction.from_dict -----------------------------------------
        operation = tx.get("operation", Transaction.CREATE)
        tx_id = tx.get("id")
        asset_tag = Transaction.get_assets_tag(tx["version"])
        asset_obj = Transaction.get_asset_obj(tx)
        local_dict = {
            "inputs": tx["inputs"],
            "outputs": tx["outputs"],
            "operation": operation,
            "metadata": tx["metadata"],
            asset_tag: asset_obj,
            "version": tx["version"],
            "id": tx_id,
        }
        if "script" in tx:
            local_dict = {**local_dict, "script": tx["script"]}
        # --- copied from Transaction.validate_id ---------------------------------------
        tx_body = deepcopy(local_dict)
        tx_body = rapidjson.loads(rapidjson.dumps(tx_body))
        tx_body["id"] = None
        return Transaction._to_hash(Transaction._to_str(tx_body))
    except Exception:  # KeyError, UnicodeEncodeError (lone surrogate), RecursionError, ...
        return None


def _asset_ids(t):
    """Asset ids as Planetmint 2.5's stream derives them (web/websocket_dispatcher.py
    `eventify_block`), with its version-2.0 bug (it publishes the whole asset dict) fixed."""
    assets = t.assets
    if isinstance(assets, dict):
        return [assets.get("id", t.id)]
    if isinstance(assets, list):
        return [asset.get("id", t.id) for asset in assets]
    return [t.id]


def reference_verdict(raw: bytes) -> dict:
    """Stateless reference verdict for the raw bytes of one transaction in a block.

    Returns {"valid", "transaction_id", "asset_id", "asset_ids", "operation", "python_error"}.

    `valid` is True iff every step passes:

    a. decode exactly as planetmint.abci.utils.decode_transaction:
       ``tx = json.loads(raw.decode("utf8"))``; any exception -> invalid.
    b. ``t = Transaction.from_dict(tx, False)`` (what Validator.validate_transaction calls):
       validate_id, validate_schema (incl. ValidatorElection's public-key check),
       Input/Output parsing, the constructor's checks.  Any exception -> invalid.
       (For the JSON `null` from_dict returns None; step c then raises AttributeError.)
    c. script: if ``t.script``, ``t.script.validate()`` must be true (Validator.validate_script).
    d. signatures, for ALL operations (Planetmint 2.5 skips this for CREATE, elections and
       DECOMPOSE): ``t._inputs_valid([input.fulfillment.condition_uri for input in t.inputs])``
       must be True.  Passing each input's own condition URI makes the library's
       "fulfillment matches the spent output" comparison trivially true, so only the
       crypto-condition (signature / threshold) is tested; whether the spent output exists
       and carries that condition is the node's (stateful) business.
    e. inputs distinct: the (transaction_id, output_index) links of the inputs that have
       `fulfills` must be unique (Validator.validate_inputs_distinct).

    `python_error` is the class name of the first exception raised, "ScriptInvalid" for c,
    "InvalidSignature" when `_inputs_valid` returns False, "DoubleSpend" for e, else None.
    `transaction_id` is `planetmint_transaction_id(tx)` (valid or not); `operation` is
    tx["operation"] when tx is an object and that is a string; `asset_ids`/`asset_id` are
    only given for valid transactions (see `_asset_ids`).
    """
    result = {
        "valid": False,
        "transaction_id": None,
        "asset_id": None,
        "asset_ids": None,
        "operation": None,
        "python_error": None,
    }
    _clear_library_caches()
    # `_input_valid` prints parse errors to stdout; keep the library quiet.
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            tx = json.loads(raw.decode("utf8"))  # (a)
        except Exception as exc:
            result["python_error"] = type(exc).__name__
            return result
        if isinstance(tx, dict) and isinstance(tx.get("operation"), str):
            result["operation"] = tx["operation"]
        result["transaction_id"] = planetmint_transaction_id(tx)
        try:
            t = Transaction.from_dict(tx, False)  # (b)
            if t.script and not t.script.validate():  # (c)
                raise ScriptInvalid()
            conditions = [input_.fulfillment.condition_uri for input_ in t.inputs]
            if not t._inputs_valid(conditions):  # (d)
                raise InvalidSignatureMarker()
            links = [(i.fulfills.txid, i.fulfills.output) for i in t.inputs if i.fulfills]
            if len(links) != len(set(links)):  # (e)
                raise DoubleSpendMarker()
            asset_ids = _asset_ids(t)
        except ScriptInvalid:
            result["python_error"] = "ScriptInvalid"
            return result
        except InvalidSignatureMarker:
            result["python_error"] = "InvalidSignature"
            return result
        except DoubleSpendMarker:
            result["python_error"] = "DoubleSpend"
            return result
        except Exception as exc:
            result["python_error"] = type(exc).__name__
            return result
        finally:
            _clear_library_caches()
    result["valid"] = True
    result["asset_ids"] = asset_ids
    result["asset_id"] = asset_ids[0] if asset_ids else None
    return result


# ======================================================================================
# Deterministic keys and transaction building blocks (all signing via the library)
# ======================================================================================


def keypair(label: str):
    """Deterministic ed25519 key pair: PyNaCl SigningKey(seed) through planetmint-driver's
    `generate_keypair(seed)`, base58-encoded as Planetmint does."""
    return generate_keypair(sha256(b"planetmint-stream/fixture-key/" + label.encode()).digest())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def raw_of(tx) -> bytes:
    """What a CometBFT block carries: UTF-8 of Python's json.dumps (default separators,
    ensure_ascii=True, keys in the client's insertion order)."""
    return json.dumps(tx).encode("utf-8")


def signing_message(tx: dict) -> str:
    """The string whose sha3 every input signs, as `_inputs_valid` builds it: the full body
    (unknown top-level keys included!) with every fulfillment and the id set to null."""
    body = Transaction._remove_signatures(tx)
    body["id"] = None
    return Transaction._to_str(body)


def input_digest(tx: dict, index: int) -> bytes:
    """32-byte message signed by input `index` (as in `_input_valid` / `_sign_input`)."""
    h = sha3_256(signing_message(tx).encode())
    fulfills = tx["inputs"][index].get("fulfills")
    if fulfills:
        h.update("{}{}".format(fulfills["transaction_id"], fulfills["output_index"]).encode())
    return h.digest()


def with_id(tx: dict) -> dict:
    """Set "id" to the id Planetmint computes for this body."""
    tx = dict(tx)
    tx["id"] = planetmint_transaction_id(tx)
    assert tx["id"] is not None
    return tx


def sign(tx: dict, keys, *, key_map=None) -> dict:
    """Fulfill every input with the library's own signer and set the id.

    Inputs must hold their unsigned fulfillment as condition details (what prepare_* returns).
    The message is the full body (see `signing_message`), exactly what the verifier hashes,
    so unknown top-level keys are covered.  `key_map` overrides which private key signs for
    a public key (used to forge)."""
    tx = deepcopy(tx)
    key_pairs = {kp.public_key: PrivateKey(kp.private_key) for kp in keys}
    if key_map:
        key_pairs.update({pub: PrivateKey(kp.private_key) for pub, kp in key_map.items()})
    message = signing_message(tx)
    for i, input_dict in enumerate(tx["inputs"]):
        input_obj = Input.from_dict(input_dict)
        signed = Transaction._sign_input(input_obj, message, key_pairs)
        tx["inputs"][i]["fulfillment"] = signed.fulfillment.serialize_uri()
    return with_id(tx)


def ed25519_details(kp) -> dict:
    return {"type": "ed25519-sha-256", "public_key": kp.public_key}


def threshold_details(threshold: int, subconditions: list) -> dict:
    return {"type": "threshold-sha-256", "threshold": threshold, "subconditions": subconditions}


def output_from_details(details: dict, public_keys, amount: int) -> dict:
    """An output dict built by the library (uri computed by planetmint_cryptoconditions)."""
    return Output(_fulfillment_from_details(details), public_keys, amount).to_dict()


CID_A = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
CID_B = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"
CID_C = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
CID_D = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"


def prepare_create(signers, recipients=None, data=CID_A, metadata=None, version="3.0") -> dict:
    """Unsigned CREATE from planetmint-driver's `prepare_transaction`, then the asset data
    and metadata set to the wanted values (the driver insists on CIDs; the library's
    validation only needs strings)."""
    if recipients is None:
        recipients = [([kp.public_key for kp in signers], 1)]
    tx = offchain.prepare_transaction(
        operation="CREATE",
        signers=[kp.public_key for kp in signers],
        recipients=recipients,
        assets=[{"data": CID_A}],
        metadata=None,
    )
    tx["assets"] = [{"data": data}]
    tx["metadata"] = metadata
    if version == "2.0":
        tx = to_v2(tx)
    return tx


def spend(tx: dict, index: int) -> dict:
    """An unsigned input spending output `index` of a (signed) transaction."""
    output = tx["outputs"][index]
    return {
        "fulfillment": output["condition"]["details"],
        "fulfills": {"output_index": index, "transaction_id": tx["id"]},
        "owners_before": output["public_keys"],
    }


def prepare_transfer(spent, recipients, asset_ids, metadata=None, version="3.0") -> dict:
    """Unsigned TRANSFER from planetmint-driver's `prepare_transaction`."""
    tx = offchain.prepare_transaction(
        operation="TRANSFER",
        inputs=[spend(t, i) for t, i in spent],
        recipients=recipients,
        assets=list(asset_ids),
        metadata=metadata,
    )
    if version == "2.0":
        tx = to_v2(tx)
    return tx


def to_v2(tx: dict) -> dict:
    """Same body in the version 2.0 layout: singular "asset" in place of "assets"."""
    out = {}
    for key, value in tx.items():
        if key == "assets":
            out["asset"] = value[0] if value else value
        elif key == "version":
            out["version"] = "2.0"
        else:
            out[key] = value
    return out


def library_input(tx: dict, index: int) -> Input:
    """An unsigned library Input spending output `index` of `tx` (for Compose/Decompose/Vote)."""
    output = tx["outputs"][index]
    return Input(
        _fulfillment_from_details(output["condition"]["details"]),
        output["public_keys"],
        TransactionLink(tx["id"], index),
    )
