"""``gkt demo``: the whole flow on the embedded broker, checked against the expected outcomes."""

import asyncio
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.agreement_book import DEFAULT_DIR as DEFAULT_AGREEMENTS
from contracts.jsonio import strict_loads
from contracts.reviewer_book import DEFAULT_DIR as DEFAULT_REVIEWERS
from contracts.team_book import DEFAULT_DIR as DEFAULT_TEAMS
from gateway.audit.verify import VerifyReport
from gateway.demo import samples as s
from gateway.demo.feedback_story import FeedbackRow, give_feedback, quarter_figures
from gateway.demo.keys import DemoFiles, make_demo_files
from gateway.demo.review_story import UNKNOWN, StepRow, tell
from gateway.demo.scenario import Sample, samples
from gateway.demo.selection_story import SelectionRow, find_signal, second_report
from gateway.demo.witness_story import Witnessed, witness_and_verify
from gateway.errors import BrokerError
from gateway.inbound import Position
from gateway.kafka.admin import ensure_topics
from gateway.kafka.embedded import EmbeddedBroker
from gateway.kafka.follower import read_all
from gateway.kafka.runner import new_partner_producer, running_gateway
from gateway.pipeline import Rules
from gateway.provision.plan import topic_specs
from gateway.report.figures import Table, Window
from gateway.rules_loader import load_client_key, load_rules
from gateway.settings import Settings
from gateway.signing import Signer


@dataclass
class Row:
    sample: Sample
    position: Position
    audit: dict[str, Any] | None = None
    receipt: dict[str, Any] | None = None

    @property
    def outcome(self) -> str | None:
        return self.audit["outcome"] if self.audit else None

    @property
    def codes(self) -> list[str]:
        return [r["code"] for r in self.audit["reasons"]] if self.audit else []

    @property
    def destination(self) -> str | None:
        dest = self.audit.get("destination") if self.audit else None
        return dest["topic"] if dest else None

    @property
    def as_expected(self) -> bool:
        return (
            self.outcome == self.sample.outcome.value
            and self.codes == [c.value for c in self.sample.codes]
            and self.destination == self.sample.destination
            and self.receipt is not None
            and self.receipt["outcome"] == self.sample.outcome.receipt_outcome
        )


@dataclass
class DemoResult:
    rows: list[Row]
    audit: VerifyReport
    story: list[StepRow]
    selection: SelectionRow
    feedback: list[FeedbackRow]
    figures: tuple[Window, list[Table]]
    witnessed: Witnessed

    @property
    def ok(self) -> bool:
        return (
            self.audit.ok
            and self.witnessed.ok
            and all(row.as_expected for row in self.rows)
            and all(row.as_expected for row in self.story)
            and self.selection.as_expected
            and all(row.as_expected for row in self.feedback)
        )


def demo_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "allow_test_oins": True,
        "trust_producer_time": True,  # the embedded broker keeps producers' timestamps (spec/wire.md, broker time)
        "session_timeout_ms": 2000,
        "heartbeat_interval_ms": 300,
        "http_port": 0,
        "partitions": 2,
    }
    values.update(overrides)
    return Settings(**values)


async def publish_reference(bootstrap: str, rules: Rules) -> None:
    producer = new_partner_producer(bootstrap)
    await producer.start()
    try:
        for line in s.REFERENCE_FILE.read_bytes().splitlines():
            record = strict_loads(line)
            await producer.send_and_wait(rules.topics.reference, line, key=record["kvkNummer"].encode())
    finally:
        await producer.stop()


async def prepare(bootstrap: str, rules: Rules, partitions: int) -> None:
    """Every topic of the spec, and the sample reference data on the reference topic."""
    specs = topic_specs(rules.topics, rules.agreements.partners(), rules.policies.destinations(), partitions)
    await ensure_topics(bootstrap, specs)
    await publish_reference(bootstrap, rules)


async def publish_samples(bootstrap: str, rules: Rules, batch: list[Sample]) -> list[Position]:
    producer = new_partner_producer(bootstrap)
    await producer.start()
    try:
        futures = [
            await producer.send(
                rules.topics.inbound(sample.partner),
                sample.value,
                key=sample.key or None,
                headers=list(sample.headers),
                timestamp_ms=int(sample.timestamp.timestamp() * 1000) if sample.timestamp else None,
            )
            for sample in batch
        ]
        metadata = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [Position(m.topic, m.partition, m.offset) for m in metadata]


async def collect(bootstrap: str, rules: Rules, rows: list[Row], limit_seconds: float = 60.0) -> None:
    """Wait until every row has its audit record and its receipt."""
    wanted = {row.position: row for row in rows}
    deadline = asyncio.get_running_loop().time() + limit_seconds
    while True:
        for record in await read_all(bootstrap, rules.topics.audit):
            if record.value is None:
                continue
            audit = strict_loads(record.value)
            row = wanted.get(Position.of(audit["inbound"]))
            if row is not None:
                row.audit = audit
        for partner in {row.sample.partner for row in rows}:
            for record in await read_all(bootstrap, rules.topics.feedback(partner)):
                if record.value is None:
                    continue
                receipt = strict_loads(record.value)
                row = wanted.get(Position.of(receipt["inbound"]))
                if row is not None:
                    row.receipt = receipt
        if all(row.audit and row.receipt for row in rows):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise BrokerError("not every sample got its decision in time")
        await asyncio.sleep(0.2)


async def run_demo(now: datetime | None = None) -> DemoResult:
    """The whole flow, with keys made for this run (no private key ships with the package)."""
    with tempfile.TemporaryDirectory(prefix="gkt-demo-") as work, EmbeddedBroker() as broker:
        files = make_demo_files(Path(work), DEFAULT_AGREEMENTS, DEFAULT_REVIEWERS, DEFAULT_TEAMS)
        with s.keys_in(files.keys):
            return await _run(broker.bootstrap, now, files)


async def _run(bootstrap: str, now: datetime | None, files: DemoFiles) -> DemoResult:
    settings = demo_settings(
        agreements=files.agreements, reviewers=files.reviewers, teams=files.teams, client_key_file=files.client_key
    )
    rules = load_rules(settings)
    signer = Signer.generate("gkt-demo-1")
    await prepare(bootstrap, rules, settings.partitions)
    async with running_gateway(settings, rules, signer, bootstrap, load_client_key(settings)) as service:
        batch = samples(now or datetime.now(UTC))
        positions = await publish_samples(bootstrap, rules, batch)
        rows = [Row(sample, position) for sample, position in zip(batch, positions, strict=True)]
        await collect(bootstrap, rules, rows)

        async def knows_client() -> bool:
            return service.reference.get(s.UNKNOWN_CLIENT) is not None

        held = {row.sample.label: (row.position, str(row.audit["event"]["digest"])) for row in rows if row.audit}
        story = await tell(bootstrap, rules, held, knows_client)
        selection = await _second_report(bootstrap, rules, story)
        routed = [str(row.audit["destination"]["signal_id"]) for row in rows
                  if row.audit and row.outcome == "routed" and row.sample.partner == "nla"]  # fmt: skip
        feedback = await give_feedback(bootstrap, rules, routed[:2])
        figures = await quarter_figures(bootstrap, rules)
    # Stopped, the gateway wrote a checkpoint of every chain: a witness cosigns them, verify holds the log to them.
    witnessed, report = await witness_and_verify(bootstrap, rules, signer, settings.origin)
    return DemoResult(rows, report, story, selection, feedback, figures, witnessed)


async def _second_report(bootstrap: str, rules: Rules, story: list[StepRow]) -> SelectionRow:
    """The selection story: a KVK report about the client whose NLA report the review story released."""
    released = [row.signal["id"] for row in story if row.step.sample == UNKNOWN and row.signal is not None]
    sample = second_report()
    [position] = await publish_samples(bootstrap, rules, [sample])
    decided = Row(sample, position)
    await collect(bootstrap, rules, [decided])
    row = SelectionRow(position, released[0] if released else None, decided.audit)
    await find_signal(bootstrap, row)
    return row
