"""`python -m bench.witness`: how long a new witness takes to catch up on a long log (spec/witness.md).

    python -m bench.witness [--records 1000000] [--bootstrap HOST:PORT]

Writes ``--records`` audit records in three chains (the gateway's own records
of the bench's mix, sealed and linked anew at their places, the last of each
chain signed) and a gateway-signed checkpoint of each chain's head, then times
one ``gkt witness`` round from an empty state folder: it reads every record,
checks every ``seq``, ``prev`` and ``hash``, and cosigns the three heads. The
figure is printed against a bare aiokafka consumer reading the same records in
the same run (docs/performance.md).
"""

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.rebuild import PARTITIONS, against_bare, bare_read, broker, produce, sample_audit
from gateway.audit.record import GENESIS, seal, sign_checkpoint
from gateway.keyset import KeySet
from gateway.selection.key import ClientKey
from gateway.signing import Signer
from gateway.topics import Topics
from gateway.types import ChainId
from gateway.witness.checkpoint import DEFAULT_ORIGIN, Checkpoint, checkpoint_note, gateway_verifiers
from gateway.witness.note import COSIGNATURE_V1, NoteSigner
from gateway.witness.round import Witness, witness_round
from gateway.witness.state import WitnessState


def chains(sample: list[dict[str, Any]], count: int, signer: Signer) -> Iterator[tuple[bytes, bytes]]:
    """``count`` records like ``sample``'s in ``PARTITIONS`` chains, linked and hashed at their places."""
    heads = dict.fromkeys(range(PARTITIONS), GENESIS)
    last = {p: (count - 1 - p) // PARTITIONS * PARTITIONS + p for p in range(PARTITIONS)}
    for n in range(count):
        partition, seq = n % PARTITIONS, n // PARTITIONS
        body = {k: v for k, v in sample[n % len(sample)].items() if k not in ("hash", "sig")}
        chain = f"gkt.in.nla/{partition}"
        body.update(chain=chain, seq=seq, prev=heads[partition])
        body["inbound"] = {**body["inbound"], "partition": partition, "offset": seq}
        sealed = seal(body)  # type: ignore[arg-type]
        if n == last[partition]:
            sign_checkpoint(sealed.record, signer)
        heads[partition] = str(sealed.record["hash"])
        yield chain.encode(), sealed.encoded()


async def checkpoints(bootstrap: str, topic: str, heads: dict[str, tuple[int, str]], signer: Signer) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for chain, (size, head) in heads.items():
            note = checkpoint_note(Checkpoint(ChainId(chain), size, head, datetime.now(UTC)), DEFAULT_ORIGIN, signer)
            await producer.send_and_wait(topic, note, key=chain.encode())
    finally:
        await producer.stop()


async def measure(bootstrap: str, count: int) -> dict[str, Any]:
    signer = Signer.generate("gw-bench")
    prefix = f"w{int(time.time())}."
    topics = Topics(prefix)
    made = time.perf_counter()
    records = list(chains(sample_audit(ClientKey.generate()), count, signer))
    made = time.perf_counter() - made
    heads: dict[str, tuple[int, str]] = {}
    for key, value in records:
        record = json.loads(value)
        heads[key.decode()] = (record["seq"] + 1, record["hash"])
    await produce(bootstrap, topics.audit, records)
    await produce(bootstrap, topics.checkpoints, [])
    await produce(bootstrap, topics.witness, [])
    await checkpoints(bootstrap, topics.checkpoints, heads, signer)
    bare = await bare_read(bootstrap, topics.audit, count)
    cosigner = NoteSigner("witness.bench.example", COSIGNATURE_V1, Signer.generate("w").private)
    gateway = gateway_verifiers(KeySet.of(signer), DEFAULT_ORIGIN)
    with tempfile.TemporaryDirectory() as folder:
        witness = Witness(bootstrap, topics, DEFAULT_ORIGIN, gateway, cosigner, "gkt.in.*")
        started = time.perf_counter()
        report = await witness_round(witness, WitnessState(Path(folder)))
        seconds = time.perf_counter() - started
    if report.refused or report.cosigned != {chain: size for chain, (size, _) in heads.items()}:
        raise SystemExit(f"the witness did not cosign every head: {report}: no result")
    return {"chains": PARTITIONS, "made_s": round(made, 1)} | against_bare("catch_up", records, bare, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.witness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="audit records to catch up on")
    parser.add_argument("--bootstrap", default=None, help="an external broker instead of the embedded one")
    options = parser.parse_args()
    with broker(options.bootstrap) as bootstrap:
        results = asyncio.run(measure(bootstrap, options.records))
    print(json.dumps(results, indent=2))
    print(
        f"a new witness caught up on {results['audit_records']:,} records in {results['catch_up_s']} s "
        f"({results['catch_up_records_per_s']:,} /s), {results['catch_up_ratio']} x a bare aiokafka read "
        f"({results['bare_read_s']} s)"
    )


if __name__ == "__main__":
    main()
