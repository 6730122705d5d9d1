"""Planetmint 2.5.3's own ABCI application, run in process on a private Tarantool.

`tools/gen_chains.py` feeds the chain's blocks through it so that the result codes and app
hashes written into ``fixtures/chains/`` are the application's, not a model of it::

    with PlanetmintApp(CHAIN_ID, validator_pub, power) as app:
        app.begin_block(height, (secs, nanos), previous_app_hash)
        outcome = app.deliver_tx(raw)        # 0, 1, EXITED or "raised ..."
        app_hash = app.end_block_commit(height)

What runs is ``planetmint.abci.application_logic.ApplicationLogic`` with the request types of
``tendermint.abci.types_pb2`` (package planetmint-abci), against a ``tarantool`` server started
here on a free loopback port in a temporary directory with Planetmint's own schema
(``planetmint/backend/tarantool/opt/init.lua``), with one change:

Tarantool 2.6 (Debian's package) refuses Planetmint's multikey index
``spending_transaction_by_id_and_output_index`` over ``inputs[*].fulfills["transaction_id"]`` /
``["output_index"]`` (``spending_governance_by_id_and_output_index`` on ``governance``) for a
CREATE, whose ``fulfills`` is null ("Tuple field [6][*]["fulfills"] type does not match one
required by operation: expected map"): nullable parts do not make the map itself nullable
there.  Both indexes are dropped after ``init()`` and recreated under the same names as a
functional multikey index whose keys are ``{transaction_id, output_index}`` of every input with
a map ``fulfills``: the same keys for every input that spends, none for the null ones, still
unique, so Planetmint's ``get_spending_transaction`` select by name is unchanged.

Planetmint answers bytes that do not decode as JSON with ``sys.exit(1)`` inside
``deliver_tx`` (its ``except ValueError``), and lets some exceptions escape it (see
`KNOWN_DIFFERENCES`); a real node stops on either.  The driver catches them (nothing was
stored yet) and reports the outcome instead of a code.  The per-block calls fit the request
types of Tendermint 0.34's ABCI, the one Planetmint 2.5.3 speaks; a CometBFT 0.38 node would
send FinalizeBlock instead, which Planetmint does not implement, so the 0.38 chain carries the
same application's results in that dialect.
"""

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from google.protobuf.timestamp_pb2 import Timestamp
from tendermint.abci import types_pb2
from tendermint.crypto import keys_pb2
from tendermint.types import types_pb2 as block_types

# deliver_tx did not answer: Planetmint called sys.exit (a real node stops there).
EXITED = "exit"
# Seconds to wait for the private Tarantool to listen; it starts in well under one.
TARANTOOL_START_TIMEOUT = 20
# The line of Planetmint's init.lua that opens the production port; replaced by ours.
PLANETMINT_BOX_CFG = "box.cfg{listen = 3303}"

# Replaces the spending index (see module doc).  `type(f) == 'table'` skips box.NULL (cdata).
SPENDING_INDEX_LUA = """
box.schema.func.create('planetmint_stream_spent_outputs', {
    body = [[function(tuple)
        local keys = {}
        for _, input in ipairs(tuple[6]) do
            local f = input.fulfills
            if type(f) == 'table' then
                table.insert(keys, {f.transaction_id, f.output_index})
            end
        end
        return keys
    end]],
    is_deterministic = true, is_sandboxed = true, opts = {is_multikey = true},
})
for space, index in pairs({transactions = 'spending_transaction_by_id_and_output_index',
                           governance = 'spending_governance_by_id_and_output_index'}) do
    box.space[space].index[index]:drop()
    box.space[space]:create_index(index, {
        func = 'planetmint_stream_spent_outputs',
        parts = {{field = 1, type = 'string'}, {field = 2, type = 'unsigned'}},
    })
end
"""


# The code a chain carries for a transaction deliver_tx gave no answer for (EXITED or raised):
# nothing was stored, so 1 is what a node that survived would report; a real Planetmint node
# stops there instead, so no real chain holds such a block (the generator lists them).
NO_ANSWER_CODE = 1

# What the application does that the model of tools/gen_chains.py (our beliefs) does not
# predict, by (model's reason, app's outcome prefix).  Any other disagreement aborts generation.
KNOWN_DIFFERENCES = {
    ("decode:JSONDecodeError", EXITED): "bytes that are not JSON: deliver_tx calls sys.exit(1) (ValueError), the node stops",
    ("decode:UnicodeDecodeError", EXITED): "bytes that are not UTF-8: deliver_tx calls sys.exit(1) (ValueError), the node stops",
    ("SchemaValidationError", "raised AttributeError: 'NoneType' object has no attribute 'message'"):
        "an unknown operation: Transaction.from_dict raises SchemaValidationError without a __cause__, and "
        "validate_transaction's logger.warning(..., e.__cause__.message) raises AttributeError out of "
        "deliver_tx (the ABCI connection handler dies, the node stops)",
    ("accepted", "raised KeyError: 'assets'"):
        "a TRANSFER spending an output of a version 2.0 transaction delivered earlier in the same block: "
        "get_input_txs_and_conditions rebuilds it with DbTransaction.from_dict(ctxn.to_dict()), which reads "
        "the 3.0 key 'assets' of a 2.0 body ('asset'): KeyError out of deliver_tx, the node stops "
        "(the same spend in a later block is accepted)",
}


def known_difference(model_reason, app_outcome):
    """The explanation of a model/app disagreement listed in KNOWN_DIFFERENCES, or None."""
    return KNOWN_DIFFERENCES.get((model_reason, app_outcome))


class AppError(Exception):
    """The private Tarantool or Planetmint's schema could not be brought up."""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _planetmint_init_lua():
    import planetmint

    path = os.path.join(os.path.dirname(planetmint.__file__), "backend", "tarantool", "opt", "init.lua")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if text.count(PLANETMINT_BOX_CFG) != 1:
        raise AppError(f"{path}: expected one `{PLANETMINT_BOX_CFG}` line to replace")
    return text


class PlanetmintApp:
    """Context manager: a private Tarantool with Planetmint's schema and an ApplicationLogic
    on it, after InitChain with one genesis validator."""

    def __init__(self, chain_id, validator_pub, power):
        self.chain_id, self.validator_pub, self.power = chain_id, validator_pub, power
        self.dir = self.server = self.app = None

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="planetmint-tarantool-")
        port = _free_port()
        box_cfg = f"box.cfg{{listen = '127.0.0.1:{port}', work_dir = '{self.dir}', log = 'tarantool.log'}}"
        script = _planetmint_init_lua().replace(PLANETMINT_BOX_CFG, box_cfg)
        script += "\ninit()\n" + SPENDING_INDEX_LUA
        lua = os.path.join(self.dir, "planetmint.lua")
        with open(lua, "w", encoding="utf-8") as fh:
            fh.write(script)
        self.server = subprocess.Popen(["tarantool", lua], cwd=self.dir, stdin=subprocess.DEVNULL)
        self._wait_listening(port)
        self.app = self._application(port)
        genesis = types_pb2.RequestInitChain(
            chain_id=self.chain_id,
            validators=[types_pb2.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=self.validator_pub), power=self.power)],
        )
        self.app.init_chain(genesis)
        return self

    def _wait_listening(self, port):
        deadline = time.monotonic() + TARANTOOL_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise AppError(f"tarantool exited with {self.server.returncode}; see {self.dir}/tarantool.log")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise AppError(f"tarantool did not listen on 127.0.0.1:{port}")

    @staticmethod
    def _application(port):
        # Planetmint reads the backend from its Config singleton when the first connection
        # (also a singleton) is made, i.e. inside ApplicationLogic().
        from planetmint.config import Config

        config = Config().init_config("tarantool_db")
        config["database"].update(host="127.0.0.1", port=port)
        Config().set(config)
        # Its per-transaction warnings ("Invalid transaction ...") are verdicts we read from
        # the codes; they would drown the generator's own report.
        logging.getLogger("planetmint").setLevel(logging.ERROR)
        from planetmint.abci.application_logic import ApplicationLogic

        return ApplicationLogic()

    def __exit__(self, *exc):
        if self.server is not None:
            self.server.terminate()
            self.server.wait()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def begin_block(self, height, block_time, prev_app_hash):
        secs, nanos = block_time
        header = block_types.Header(
            chain_id=self.chain_id,
            height=height,
            time=Timestamp(seconds=secs, nanos=nanos),
            app_hash=prev_app_hash.encode("ascii"),
        )
        self.app.begin_block(types_pb2.RequestBeginBlock(header=header))

    def deliver_tx(self, raw):
        """The response code, or why there is none: `EXITED`, or ``"raised <exception>"``
        when deliver_tx lets an exception escape (the ABCI server's connection handler dies
        with it and the node stops).  Either way nothing was stored."""
        try:
            return self.app.deliver_tx(raw).code
        except SystemExit:
            return EXITED
        except Exception as exc:  # noqa: BLE001 - every escape is a finding, reported as such
            return f"raised {type(exc).__name__}: {exc}"

    def end_block_commit(self, height):
        """EndBlock then Commit; the app hash Commit returns, as text."""
        end = self.app.end_block(types_pb2.RequestEndBlock(height=height))
        if end.validator_updates:
            raise AppError(f"height {height}: unexpected validator updates {end.validator_updates}")
        return self.app.commit().data.decode("ascii")


if __name__ == "__main__":  # pragma: no cover - a smoke test: an empty block
    with PlanetmintApp("smoke", bytes(32), 10) as smoke:
        smoke.begin_block(1, (0, 0), "")
        print("app hash after an empty block:", repr(smoke.end_block_commit(1)), file=sys.stderr)
