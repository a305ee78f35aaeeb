"""One round of ``gkt witness`` against Kafka: read new checkpoints, walk the chains, cosign or refuse.

The decisions are ``gateway.witness.judge``'s; this module reads ``gkt.checkpoints``
from where the last round stopped and ``gkt.audit`` from where each chain's
cosigned head sat, writes cosignatures to ``gkt.witness``, and keeps the state
(``gateway.witness.state``). A cosignature is written before the state moves:
a crash between the two cosigns the same checkpoint again, never skips one.
A refusal is checked a second time reading the chain's partition from its
start (the log may have been rewritten at other offsets) before it is kept.
"""

import fnmatch
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from gateway.audit.verify import check_bytes
from gateway.inbound import InboundRecord
from gateway.kafka.follower import read_once
from gateway.kafka.writer import new_producer
from gateway.keyset import GatewayKey, KeySet
from gateway.topics import Topics
from gateway.types import ChainId
from gateway.witness.checkpoint import SignedCheckpoint, open_checkpoint
from gateway.witness.contained import Claims
from gateway.witness.judge import ChainWalk, Refusal, Seen, order_refusal
from gateway.witness.metrics import COSIGNED, COSIGNED_SIZE, RECORDS_READ, REFUSED, ROUNDS, SKIPPED
from gateway.witness.note import NoteError, NoteSigner, Verifier
from gateway.witness.state import Cosigned, WitnessState

log = structlog.get_logger("gkt.witness")
_NO_KEYS = KeySet([])  # the walk checks hashes and links; the checkpoint's signature vouches for the head


@dataclass(frozen=True)
class Witness:
    bootstrap: str
    topics: Topics
    origin: str
    gateway: dict[bytes, tuple[Verifier, GatewayKey]]
    cosigner: NoteSigner
    chains: str  # a glob over chain ids: 'gkt.in.nla/*'
    client: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    audit_topic: str | None = None  # another copy of the log to hold against the checkpoints (tests)

    @property
    def audit(self) -> str:
        return self.audit_topic or self.topics.audit

    def mine(self, chain: str) -> bool:
        return fnmatch.fnmatchcase(chain, self.chains)


@dataclass
class RoundReport:
    cosigned: dict[ChainId, int] = field(default_factory=dict)  # chain: size cosigned this round
    refused: dict[ChainId, str] = field(default_factory=dict)  # chain: what was seen (this round or before)
    skipped: int = 0
    audit_records: int = 0

    @property
    def exit_code(self) -> int:
        return 3 if self.refused else 0


async def witness_round(witness: Witness, state: WitnessState) -> RoundReport:
    report = RoundReport()
    for chain in state.chains():
        remembered = state.refused(chain)
        if remembered is not None and witness.mine(chain):
            report.refused[chain] = remembered
    news, positions = await _new_checkpoints(witness, state, report)
    walks: dict[ChainId, ChainWalk] = {}
    for chain, checkpoints in sorted(news.items()):
        if chain in report.refused:
            continue
        cosigned = state.cosigned(chain)
        seen = cosigned.seen if cosigned else Seen.none()
        refusal = order_refusal(seen, checkpoints)
        if refusal is not None:
            _refuse(state, chain, refusal, cosigned, report)
        elif max(c.checkpoint.size for c in checkpoints) > seen.size:
            walks[chain] = ChainWalk(seen, checkpoints)
    outcomes = await _walk(witness, state, walks, report, from_start=False)
    again = {chain: walks[chain] for chain, outcome in outcomes.items() if isinstance(outcome, Refusal)}
    if again:  # before a refusal is kept for good: the chain's partitions read whole
        fresh = {chain: ChainWalk(walk.seen, walk.checkpoints) for chain, walk in again.items()}
        outcomes |= await _walk(witness, state, fresh, report, from_start=True)
        walks |= fresh
    cosigns = {}
    for chain, outcome in sorted(outcomes.items()):
        if isinstance(outcome, Refusal):
            _refuse(state, chain, outcome, state.cosigned(chain), report)
        elif outcome is not None:
            cosigns[chain] = (outcome, walks[chain])
    await _cosign(witness, state, cosigns, report)
    state.read(positions)
    ROUNDS.inc()
    return report


async def _new_checkpoints(
    witness: Witness, state: WitnessState, report: RoundReport
) -> tuple[dict[ChainId, list[SignedCheckpoint]], dict[int, tuple[int, str]]]:
    """Checkpoints of our chains written since the last round, per chain in log order; where reading stopped.

    Each partition is read again from the last record read before, which must still be there, the same:
    a topic cut or made anew since is refused (``CheckpointsCutError``), not read as if nothing happened.
    """
    before = state.read_to()
    positions = dict(before)
    start = {partition: offset - 1 for partition, (offset, _) in before.items()}
    news: dict[ChainId, list[SignedCheckpoint]] = {}
    found: set[int] = set()
    cut: list[CheckpointsCutError] = []

    def take(record: InboundRecord) -> None:
        position, value = record.position, record.value or b""
        partition = position.partition
        if partition in before and partition not in found:
            found.add(partition)
            if position.offset != start[partition] or digest(value) != before[partition][1]:
                cut.append(CheckpointsCutError(partition, before[partition][0]))
            return  # the record read last round: judged then
        positions[partition] = (position.offset + 1, digest(value))
        chain = (record.key or b"").decode("utf-8", errors="replace")
        if not witness.mine(chain):
            return
        try:
            signed = open_checkpoint(value, witness.origin, witness.gateway)
        except (NoteError, UnicodeDecodeError):
            signed = None
        if signed is None or signed.checkpoint.chain != chain:
            report.skipped += 1
            SKIPPED.inc()
            log.warning("checkpoint_skipped", position=str(position), why="not a checkpoint the gateway signed")
            return
        news.setdefault(ChainId(chain), []).append(signed)

    await read_once(witness.bootstrap, witness.topics.checkpoints, take, start=start, **witness.client)
    cut += [CheckpointsCutError(p, offset) for p, (offset, _) in before.items() if p not in found]
    if cut:
        raise cut[0]
    return news, positions


def digest(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


class CheckpointsCutError(Exception):
    """``gkt.checkpoints`` holds fewer records than the witness read before: it was cut or made anew."""

    def __init__(self, partition: int, expected: int) -> None:
        super().__init__(
            f"gkt.checkpoints partition {partition} no longer holds the record at offset {expected - 1} that this "
            "witness read last: the topic was cut or made anew"
        )


async def _walk(
    witness: Witness,
    state: WitnessState,
    walks: dict[ChainId, ChainWalk],
    report: RoundReport,
    *,
    from_start: bool,
) -> dict[ChainId, SignedCheckpoint | Refusal | None]:
    """Follow each chain of ``walks`` through ``gkt.audit``; the judgement of its new checkpoints."""
    if not walks:
        return {}
    start: dict[int, int] = {}
    partitions: set[int] | None = set()
    for chain in walks:
        cosigned = state.cosigned(chain)
        if from_start or cosigned is None or cosigned.audit_partition is None or cosigned.audit_offset is None:
            partitions, start = None, {}  # a chain not yet placed: every partition, from its start
            break
        assert partitions is not None
        partitions.add(cosigned.audit_partition)
        known = start.get(cosigned.audit_partition)
        start[cosigned.audit_partition] = min(cosigned.audit_offset, known if known is not None else 1 << 62)
    keys = {chain.encode(): walk for chain, walk in walks.items()}
    places: dict[ChainId, int] = {}

    def take(record: InboundRecord) -> None:
        walk = keys.get(record.key or b"")
        if walk is None:
            return
        report.audit_records += 1
        checked = check_bytes(record.value or b"", _NO_KEYS)
        if checked is not None and checked.chain == record.key.decode():  # type: ignore[union-attr]
            walk.take(checked, record.position.offset)
            places[ChainId(checked.chain)] = record.position.partition

    await read_once(witness.bootstrap, witness.audit, take, start=start, partitions=partitions, **witness.client)
    RECORDS_READ.inc(report.audit_records)
    for chain, walk in walks.items():
        walk.partition = places.get(chain)
    return {chain: walk.judge() for chain, walk in walks.items()}


def _refuse(
    state: WitnessState, chain: ChainId, refusal: Refusal, cosigned: Cosigned | None, report: RoundReport
) -> None:
    folder = state.refuse(chain, refusal, cosigned)
    report.refused[chain] = refusal.what
    REFUSED.labels(chain).set(1)
    log.error("witness_refused", chain=chain, what=refusal.what, evidence=str(folder))


async def _cosign(
    witness: Witness,
    state: WitnessState,
    cosigns: dict[ChainId, tuple[SignedCheckpoint, ChainWalk]],
    report: RoundReport,
) -> None:
    if not cosigns:
        return
    producer = new_producer(witness.bootstrap, **witness.client)
    await producer.start()
    try:
        for chain, (signed, walk) in cosigns.items():
            line = witness.cosigner.line(signed.note.text, int(witness.clock()))
            note = signed.note.with_line(line)
            await producer.send_and_wait(witness.topics.witness, note.encoded(), key=chain.encode())
            size = signed.checkpoint.size
            offset = walk.offsets.get(size)
            state.cosign(
                chain,
                Cosigned(
                    Seen(size, signed.checkpoint.hash, signed.checkpoint.time),
                    note.encoded().decode("utf-8"),
                    walk.partition,
                    offset,
                ),
            )
            report.cosigned[chain] = size
            COSIGNED.labels(chain).inc()
            COSIGNED_SIZE.labels(chain).set(size)
            log.info("witness_cosigned", chain=chain, size=size)
    finally:
        await producer.stop()


async def read_claims(
    bootstrap: str,
    topics: Topics,
    origin: str,
    gateway: dict[bytes, tuple[Verifier, GatewayKey]],
    witnesses: list[Verifier],
    **client: Any,
) -> Claims:
    """The checkpoints on ``gkt.checkpoints`` and ``gkt.witness``, and which of ``witnesses`` cosigned them:
    what ``gkt audit verify --witnesses`` holds the log against when it reads Kafka."""
    claims = Claims()

    def take(record: InboundRecord) -> None:
        claims.add(record.value or b"", origin, gateway, witnesses)

    for topic in (topics.checkpoints, topics.witness):
        await read_once(bootstrap, topic, take, **client)
    return claims
