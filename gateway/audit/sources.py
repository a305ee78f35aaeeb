"""Where auditors read the log from: Kafka (``gkt.audit`` and the inbound topics) or an export file."""

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.jsonio import strict_loads
from gateway.audit.replay import positions_named
from gateway.inbound import InboundRecord, Position
from gateway.kafka.follower import read_once
from gateway.rules_loader import load_reference
from routing.reference import ClientLookup, ReferenceHistory

if TYPE_CHECKING:
    from gateway.pipeline import Rules


def export_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, bytes)`` of a JSON Lines export, skipping blank lines."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip(b"\n")
            if line.strip():
                yield number, line


def line_count(path: Path, block: int = 1 << 20) -> int:
    """How many lines ``path`` has (the last may lack its line end): what progress on it counts to. Counted
    a block at a time, not a line at a time: it is read once more only to show the total."""
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(block):
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    return lines + (last != b"\n")


async def inbound_offsets(bootstrap: str, topics: list[str], **client: Any) -> dict[str, list[int]]:
    """Offsets still present on each inbound partition, by chain id ``<topic>/<partition>``."""
    present: dict[str, list[int]] = {}

    def note(record: InboundRecord) -> None:
        present.setdefault(record.position.chain, []).append(record.position.offset)

    for topic in topics:
        await read_once(bootstrap, topic, note, **client)
    return present


async def load_for_replay(
    bootstrap: str, rules: "Rules", reference_file: Path | None, **client: Any
) -> tuple[list[dict[str, Any]], dict[Position, InboundRecord], Callable[[datetime], ClientLookup]]:
    """The audit log, the inbound records it names, and the reference data as of any moment."""
    audit: list[dict[str, Any]] = []
    await read_once(bootstrap, rules.topics.audit, lambda r: audit.append(strict_loads(r.value or b"{}")), **client)
    wanted = positions_named(audit)
    inbound: dict[Position, InboundRecord] = {}

    def keep(record: InboundRecord) -> None:
        if record.position in wanted:
            inbound[record.position] = record

    for topic in sorted({position.topic for position in wanted}):
        await read_once(bootstrap, topic, keep, **client)
    if reference_file is not None:
        table = load_reference(reference_file)
        return audit, inbound, lambda _moment: table
    history = ReferenceHistory()
    await read_once(bootstrap, rules.topics.reference, lambda r: history.add(r.key, r.value, r.timestamp_ms), **client)
    return audit, inbound, history.at
