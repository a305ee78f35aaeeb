"""Verdicts on quarantined reports (spec/review.md), decided without Kafka: the rules R1-R4 case by case."""

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.jsonio import dumps, strict_loads
from contracts.reviewer_book import ReviewerBook
from gateway.audit.index import AuditIndex
from gateway.audit.record import ChainHead
from gateway.decision import signal_id_for
from gateway.demo import samples as s
from gateway.inbound import SIGNATURE_HEADER, InboundRecord, Position
from gateway.outputs import MAX_SMALL_RECORD_BYTES, OutMessage
from gateway.pipeline import Rules
from gateway.processor import BatchResult, Processor
from gateway.review.state import ReviewState
from gateway.review.verdict import VerdictFormatError, read_verdict
from gateway.signing import Signer
from gateway.types import ChainId
from routing.reference import ReferenceTable
from tests.helpers import NOW, inbound, kvk, make_rules, nla

LATER = NOW + timedelta(days=3)
GROUNDS = "Zaak 2025-17: werkgever en opdrachtnemer J. Jansen bekend"  # text that must stay on gkt.review


class Desk:
    """A processor with its chain heads: reports and verdicts go in, outputs and audit records come out."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.rules = rules or make_rules()
        self.signer = Signer.generate("gw-review-1")
        self.state = ReviewState()
        self.processor = Processor(
            self.rules, self.signer, AuditIndex(), "urn:gkt", clock=lambda: LATER, review=self.state
        )
        self.heads: dict[ChainId, ChainHead] = {}
        self.reports: dict[Position, InboundRecord] = {}
        self.audit: list[dict[str, Any]] = []
        self.records: dict[Position, InboundRecord] = {}  # everything decided, as replay reads it back
        self._review_offset = 0

    def run(self, record: InboundRecord) -> BatchResult:
        self.records[record.position] = record
        self.heads.setdefault(record.position.chain, ChainHead.empty(record.position.chain))
        wanted = self.processor.held_reports([record])
        result = self.processor.process([record], self.heads, {p: self.reports[p] for p in wanted if p in self.reports})
        self.audit += [strict_loads(m.value) for m in result.audits]
        return result

    def hold(self, record: InboundRecord) -> InboundRecord:
        """Decide a report that quarantines; it stays readable "on its topic" for later verdicts."""
        result = self.run(record)
        assert self.audit[-1]["outcome"] == "quarantined", self.audit[-1]["reasons"]
        self.reports[record.position] = record
        assert result.outputs
        return record

    def verdict(
        self,
        held: InboundRecord,
        kind: str,
        reviewer: str,
        *,
        digest: str | None = None,
        item: str | None = None,
        signature: bytes | None = None,
        grounds: str | None = GROUNDS,
        at: datetime = LATER,
        broker_time: bool = True,
        key: bytes | None = None,
    ) -> tuple[dict[str, Any], BatchResult]:
        value = s.verdict(item or str(held.position), digest or held.digest, kind, reviewer, at, grounds)
        header = signature if signature is not None else s.sign_verdict(value, reviewer)
        record = InboundRecord(
            Position("gkt.review", 0, self._review_offset),
            int(at.timestamp() * 1000),
            value,
            ((SIGNATURE_HEADER, header),),
            key=key if key is not None else (item or str(held.position)).encode(),
            broker_time=broker_time,
        )
        self._review_offset += 1
        result = self.run(record)
        return self.audit[-1], result


PILOT = datetime(2025, 2, 10, 10, 0, tzinfo=UTC)


def kvk_under_review(offset: int = 0) -> InboundRecord:
    """KVK agreement 2025.1 (the pilot weeks, until 2025-03-01) asks review of every report."""
    return inbound(kvk(at=PILOT), partner="kvk", kid="kvk-2025-01", offset=offset, at=PILOT)


def nla_unknown_client(offset: int = 0) -> InboundRecord:
    return inbound(nla(client=s.UNKNOWN_CLIENT), offset=offset)


def signals(result: BatchResult) -> list[OutMessage]:
    return [m for m in result.outputs if m.topic.startswith("bd.")]


def closing(result: BatchResult) -> list[dict[str, Any]]:
    return [strict_loads(m.value) for m in result.outputs if m.topic == "gkt.quarantine"]


# R1: two reviewers


def test_one_reviewer_cannot_release_and_a_second_releases() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    first, result = desk.verdict(held, "release", "r-0001")
    assert first["outcome"] == "pending"
    assert first["review"] == {"item": "gkt.in.kvk/0/0", "verdict": "release", "reviewer": "r-0001"}
    assert result.outputs == [], "pending writes nothing but its audit record"
    second, result = desk.verdict(held, "release", "r-0002")
    assert second["outcome"] == "released"
    assert second["destination"]["topic"] == "bd.detectie.mkb"
    [signal] = signals(result)
    event = strict_loads(signal.value)
    source, event_id = strict_loads(held.value or b"")["source"], strict_loads(held.value or b"")["id"]
    # R3: the signal_id it would have had when routed straight away
    assert event["id"] == signal_id_for(source, event_id) == second["destination"]["signal_id"]
    assert signal.key == event["id"].encode()
    assert event["data"]["beoordeling"] == {
        "vrijgegevenOp": "2025-06-05T10:00:00.000Z",
        "redenen": ["REVIEW_REQUIRED"],
        "audit": {"chain": "gkt.review/0", "seq": 1},
    }
    assert event["data"]["audit"] == {"chain": "gkt.in.kvk/0", "seq": 0}, "the report's own decision"
    assert event["data"]["melding"]["ontvangenOp"] == "2025-02-10T10:00:00.000Z"
    assert closing(result) == [
        {
            "item": "gkt.in.kvk/0/0",
            "status": "released",
            "at": "2025-06-05T10:00:00.000Z",
            "audit": {"chain": "gkt.review/0", "seq": 1},
        }
    ]
    assert desk.state.item(held.position) is None, "closed"


def test_one_reviewer_cannot_discard_and_two_discard() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    assert desk.verdict(held, "discard", "r-0001")[0]["outcome"] == "pending"
    record, result = desk.verdict(held, "discard", "r-0003")
    assert record["outcome"] == "discarded"
    assert record["destination"] is None
    assert signals(result) == []
    assert [c["status"] for c in closing(result)] == ["discarded"]


def test_a_third_reviewer_settles_a_disagreement() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    assert desk.verdict(held, "release", "r-0001")[0]["outcome"] == "pending"
    assert desk.verdict(held, "discard", "r-0002")[0]["outcome"] == "pending"
    assert desk.verdict(held, "release", "r-0003")[0]["outcome"] == "released"


def test_the_same_reviewer_twice_is_verdict_repeated() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    desk.verdict(held, "release", "r-0001")
    record, result = desk.verdict(held, "release", "r-0001")
    assert record["outcome"] == "rejected"
    assert [r["code"] for r in record["reasons"]] == ["VERDICT_REPEATED"]
    assert result.outputs == []
    # The refused verdict counts for nothing: the item still needs a second reviewer.
    assert desk.verdict(held, "release", "r-0002")[0]["outcome"] == "released"


# Step 1: VERDICT_INVALID


def test_a_forged_signature_is_verdict_invalid() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    forger = Signer.generate("r-0001-2025")  # the right kid, someone else's key
    value = s.verdict(str(held.position), held.digest, "release", "r-0001", LATER)
    record, _ = desk.verdict(held, "release", "r-0001", signature=forger.sign(value).encode())
    assert [r["code"] for r in record["reasons"]] == ["VERDICT_INVALID"]
    assert record["event"]["kid"] == "r-0001-2025"


def test_another_reviewers_key_is_not_yours() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    value = s.verdict(str(held.position), held.digest, "release", "r-0001", LATER, GROUNDS)
    record, _ = desk.verdict(held, "release", "r-0001", signature=s.sign_verdict(value, "r-0002"))
    assert [r["code"] for r in record["reasons"]] == ["VERDICT_INVALID"]
    assert record["event"]["kid"] == "r-0002-2025", "a kid the reviewers file lists is recorded"


def test_a_kid_nobody_has_is_recorded_masked() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    value = s.verdict(str(held.position), held.digest, "release", "r-0001", LATER, GROUNDS)
    stranger = Signer.generate("Jansen-kid-9")
    record, _ = desk.verdict(held, "release", "r-0001", signature=stranger.sign(value).encode())
    assert [r["code"] for r in record["reasons"]] == ["VERDICT_INVALID"]
    assert record["event"]["kid"] == "xxxxxx-xxx-9"


def reviewers_dir(tmp_path: Path, *, not_after: str | None = None, test: bool = True) -> Path:
    source = (Path(s.__file__).parents[2] / "contracts" / "reviewers" / "2025.1.toml").read_text()
    if not_after:
        source = source.replace(
            "not_before = 2025-01-01T00:00:00Z", f"not_before = 2025-01-01T00:00:00Z\nnot_after = {not_after}"
        )
    if not test:
        source = source.replace("test = true", "test = false")
    (tmp_path / "2025.1.toml").write_text(source)
    return tmp_path


def test_an_expired_reviewer_key_is_verdict_invalid(tmp_path: Path) -> None:
    rules = dataclasses.replace(
        make_rules(), reviewers=ReviewerBook.load(reviewers_dir(tmp_path, not_after="2025-06-04T00:00:00Z"))
    )
    desk = Desk(rules)
    held = desk.hold(kvk_under_review())
    ok, _ = desk.verdict(held, "release", "r-0001", at=NOW + timedelta(days=1))
    late, _ = desk.verdict(held, "release", "r-0002", at=NOW + timedelta(days=3))
    assert ok["outcome"] == "pending"
    assert [r["code"] for r in late["reasons"]] == ["VERDICT_INVALID"]


def test_a_verdict_dated_by_its_producer_is_refused_unless_trusted(tmp_path: Path) -> None:
    """Broker time: a reviewer whose key ended cannot date a verdict back to when it was valid (G8)."""
    book = ReviewerBook.load(reviewers_dir(tmp_path, not_after="2025-06-04T00:00:00Z"))
    untrusting = dataclasses.replace(make_rules(), reviewers=book, trust_producer_time=False)
    desk = Desk(untrusting)
    held = desk.hold(kvk_under_review())
    backdated, result = desk.verdict(held, "release", "r-0001", at=NOW + timedelta(days=1), broker_time=False)
    assert backdated["outcome"] == "rejected"
    assert [r["code"] for r in backdated["reasons"]] == ["TIMESTAMP_UNTRUSTED"]
    assert backdated["inbound"]["timestamp_type"] == "CreateTime"
    assert result.outputs == []
    dated, _ = desk.verdict(held, "release", "r-0001", at=NOW + timedelta(days=1))
    assert dated["outcome"] == "pending", "the same verdict dated by the broker counts"
    assert dated["inbound"]["timestamp_type"] == "LogAppendTime"
    trusting = Desk(dataclasses.replace(untrusting, trust_producer_time=True))
    held = trusting.hold(kvk_under_review())
    taken, _ = trusting.verdict(held, "release", "r-0001", at=NOW + timedelta(days=1), broker_time=False)
    assert taken["outcome"] == "pending"


def test_a_verdict_keyed_by_anything_but_its_item_is_invalid() -> None:
    """One partition keyed by item puts every verdict on an item in one process, in order (spec/review.md)."""
    desk = Desk()
    held = desk.hold(kvk_under_review())
    for key in (b"", b"gkt.in.kvk/0/1", str(held.position).encode() + b" "):
        record, result = desk.verdict(held, "release", "r-0001", key=key)
        assert [(r["code"]) for r in record["reasons"]] == ["VERDICT_INVALID"]
        assert record["review"]["reviewer"] is None, "nothing verified: no reviewer named"
        assert result.verdicts[0].reasons[0].detail.startswith("key is not the item")
    taken, _ = desk.verdict(held, "release", "r-0001")
    assert taken["outcome"] == "pending"


def test_a_verdict_received_before_its_report_is_invalid() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())  # received at PILOT
    early, result = desk.verdict(held, "release", "r-0001", at=PILOT - timedelta(minutes=1))
    assert [r["code"] for r in early["reasons"]] == ["VERDICT_INVALID"]
    assert result.verdicts[0].reasons[0].detail.startswith("dated before the item")
    taken, _ = desk.verdict(held, "release", "r-0001", at=PILOT)
    assert taken["outcome"] == "pending"


def test_a_refused_verdict_names_no_reviewer_unless_their_signature_verified() -> None:
    """The claimed id is the sender's word: recording it would pin an attempt on the person named."""
    desk = Desk()
    held = desk.hold(kvk_under_review())
    value = s.verdict(str(held.position), held.digest, "release", "r-0002", LATER, GROUNDS)
    forged, _ = desk.verdict(held, "release", "r-0002", signature=s.sign_verdict(value, "r-0001"))
    assert forged["outcome"] == "rejected"
    assert forged["review"]["reviewer"] is None
    taken, _ = desk.verdict(held, "release", "r-0002")
    assert taken["review"]["reviewer"] == "r-0002"
    repeated, _ = desk.verdict(held, "discard", "r-0002")
    assert [r["code"] for r in repeated["reasons"]] == ["VERDICT_REPEATED"]
    assert repeated["review"]["reviewer"] == "r-0002", "verified, so named even though refused"


def test_test_reviewers_count_only_with_allow_test_oins() -> None:
    desk = Desk(dataclasses.replace(make_rules(), allow_test_oins=False))
    held = kvk_under_review()
    value = s.verdict(str(held.position), held.digest, "release", "r-0001", LATER)
    record = InboundRecord(
        Position("gkt.review", 0, 0),
        int(LATER.timestamp() * 1000),
        value,
        ((SIGNATURE_HEADER, s.sign_verdict(value, "r-0001")),),
        key=str(held.position).encode(),
    )
    decision = desk.processor.process(
        [record], {record.position.chain: ChainHead.empty(record.position.chain)}
    ).verdicts[0]
    assert [r.code.value for r in decision.reasons] == ["VERDICT_INVALID"]
    assert "allow_test_oins" in decision.reasons[0].detail, "the detail names the flag"


def test_real_reviewers_count_without_allow_test_oins(tmp_path: Path) -> None:
    rules = make_rules()
    real = ReviewerBook.load(reviewers_dir(tmp_path, test=False))
    desk = Desk(dataclasses.replace(rules, reviewers=real))
    held = desk.hold(kvk_under_review())
    desk.processor.rules = dataclasses.replace(desk.rules, reviewers=real, allow_test_oins=False)
    assert desk.verdict(held, "release", "r-0001")[0]["outcome"] == "pending"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "I-JSON"),
        (b"[]", "object"),
        (dumps({"item": "gkt.in.kvk/0/0"}), "verdict"),
        (dumps({"item": "x", "event_digest": "sha256:" + "0" * 64, "verdict": "release"}), "item"),
    ],
)
def test_unreadable_verdicts_say_which_rule_they_break(body: bytes, problem: str) -> None:
    with pytest.raises(VerdictFormatError, match=problem):
        read_verdict(body)


def test_grounds_are_required_for_release_and_discard_but_not_recheck() -> None:
    for kind in ("release", "discard"):
        with pytest.raises(VerdictFormatError, match="grounds"):
            read_verdict(s.verdict("gkt.in.kvk/0/0", "sha256:" + "0" * 64, kind, "r-0001", LATER, None))
    recheck = read_verdict(s.verdict("gkt.in.kvk/0/0", "sha256:" + "0" * 64, "recheck", "r-0001", LATER, None))
    assert recheck.grounds is None


# Step 2: ITEM_NOT_OPEN


def test_a_verdict_on_an_unknown_item_or_wrong_digest_is_item_not_open() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    unknown, _ = desk.verdict(held, "release", "r-0001", item="gkt.in.kvk/0/99")
    assert [r["code"] for r in unknown["reasons"]] == ["ITEM_NOT_OPEN"]
    assert unknown["review"]["item"] == "xxx.xx.xxx/9/99", "an item id the log does not know is masked"
    wrong, _ = desk.verdict(held, "release", "r-0001", digest="sha256:" + "1" * 64)
    assert [r["code"] for r in wrong["reasons"]] == ["ITEM_NOT_OPEN"]
    assert wrong["review"]["item"] == "gkt.in.kvk/0/0"


def test_released_or_discarded_items_are_not_open() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    desk.verdict(held, "release", "r-0001")
    desk.verdict(held, "release", "r-0002")
    record, result = desk.verdict(held, "release", "r-0003")
    assert [r["code"] for r in record["reasons"]] == ["ITEM_NOT_OPEN"]
    assert result.outputs == [], "R3: released at most once"


def test_a_routed_report_is_no_item() -> None:
    desk = Desk()
    routed = inbound(nla())
    desk.run(routed)
    assert desk.audit[-1]["outcome"] == "routed"
    record, _ = desk.verdict(routed, "release", "r-0001")
    assert [r["code"] for r in record["reasons"]] == ["ITEM_NOT_OPEN"]


# Step 4: recheck


def test_a_recheck_never_lifts_review_required() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    record, result = desk.verdict(held, "recheck", "r-0001", grounds=None)
    assert record["outcome"] == "pending"
    assert [r["code"] for r in record["reasons"]] == ["REVIEW_REQUIRED"]
    assert result.outputs == []


def with_client(rules: Rules, kvk_nummer: str) -> Rules:
    table = ReferenceTable.from_jsonl(s.REFERENCE_FILE)
    line = dumps(
        {
            "kvkNummer": kvk_nummer,
            "segment": "go",
            "horizontaalToezichtLoonheffingen": False,
            "aanwijzingDatum": None,
            "modelovereenkomstTot": None,
        }
    )
    assert table.apply(kvk_nummer.encode(), line)
    return dataclasses.replace(rules, reference=table)


def test_a_recheck_after_a_reference_update_releases_on_one_word() -> None:
    desk = Desk()
    held = desk.hold(nla_unknown_client())
    record, _ = desk.verdict(held, "recheck", "r-0001", grounds=None)
    assert record["outcome"] == "pending"
    assert [r["code"] for r in record["reasons"]] == ["REFERENCE_UNKNOWN"]
    desk.processor.rules = desk.rules = with_client(desk.rules, s.UNKNOWN_CLIENT)
    record, result = desk.verdict(held, "recheck", "r-0002", grounds=None)
    assert record["outcome"] == "released"
    assert record["destination"]["topic"] == "bd.detectie.go"
    assert record["versions"]["reference"] is not None
    [signal] = signals(result)
    assert strict_loads(signal.value)["data"]["beoordeling"]["redenen"] == ["REFERENCE_UNKNOWN"]


def test_two_releases_keep_an_unknown_client_open() -> None:
    desk = Desk()
    held = desk.hold(nla_unknown_client())
    desk.verdict(held, "release", "r-0001")
    record, result = desk.verdict(held, "release", "r-0002")
    assert record["outcome"] == "pending"
    assert [r["code"] for r in record["reasons"]] == ["REFERENCE_UNKNOWN"]
    assert result.outputs == []
    assert desk.state.item(held.position) is not None


def test_a_held_report_no_longer_on_its_topic_stays_open() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    del desk.reports[held.position]
    desk.verdict(held, "release", "r-0001")
    record, _ = desk.verdict(held, "release", "r-0002")
    assert record["outcome"] == "pending"
    assert desk.state.item(held.position) is not None


# R4, G7


def test_no_receipt_and_no_grounds_anywhere() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    outputs = [*desk.verdict(held, "release", "r-0001")[1].outputs, *desk.verdict(held, "release", "r-0002")[1].outputs]
    assert not any(m.topic.startswith("gkt.feedback.") for m in outputs), "R4: the partner learns nothing"
    written = b"".join(m.value for m in outputs) + dumps(desk.audit)
    assert GROUNDS.encode() not in written
    assert b"Jansen" not in written


# State from the log


def test_the_state_is_the_same_whatever_order_the_log_is_read_in() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    other = desk.hold(nla_unknown_client(offset=1))
    desk.verdict(held, "release", "r-0001")
    desk.verdict(held, "release", "r-0002")
    desk.verdict(other, "discard", "r-0001")
    forwards, backwards = ReviewState(), ReviewState()
    for record in desk.audit:
        forwards.apply(record)
        forwards.apply(record)  # a record read twice counts once
    for record in reversed(desk.audit):
        backwards.apply(record)
    for state in (forwards, backwards):
        assert state.item(held.position) is None
        assert [i.position for i in state.open_items()] == [other.position]
        assert [g.reviewer for g in state.given(other.position)] == ["r-0001"]
        assert state.open_by_reason() == {"REFERENCE_UNKNOWN": 1}


# Hostile verdicts: any bytes, any headers


@settings(max_examples=150, deadline=None)
@given(
    value=st.one_of(
        st.none(), st.binary(max_size=300), st.dictionaries(st.text(max_size=20), st.text(max_size=40)).map(dumps)
    ),
    headers=st.lists(st.tuples(st.text(max_size=20), st.one_of(st.none(), st.binary(max_size=80))), max_size=3),
    timestamp_ms=st.integers(min_value=-(2**63), max_value=2**63 - 1),
)
def test_any_review_record_is_decided_bounded_and_masked(
    value: bytes | None, headers: list[tuple[str, bytes | None]], timestamp_ms: int
) -> None:
    desk = Desk()
    record = InboundRecord(Position("gkt.review", 0, 0), timestamp_ms, value, tuple(headers), key=b"k")
    result = desk.run(record)
    [audit] = desk.audit
    assert audit["outcome"] == "rejected"
    assert result.outputs == []
    for message in result.audits:
        assert len(message.value) < MAX_SMALL_RECORD_BYTES
        message.value.decode("utf-8")
    # Whatever the sender wrote is kept only as its shape: letters x, digits 9, punctuation.
    shape = re.compile(r"[x9?\W_]*")
    assert audit["review"]["reviewer"] is None
    for sent in (audit["review"]["item"], audit["event"]["kid"]):
        assert sent is None or shape.fullmatch(sent), sent


# The reviewers file: checked at start, naming file and field


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kid = "r-0002-2025"', 'kid = "r-0001-2025"'), "two reviewer keys share one kid"),
        (('alg = "EdDSA"', 'alg = "ES256"'), "reviewers.0.public_key"),
        (('id = "r-0001"', 'id = "r 0001"'), "reviewers.0.id"),
        (('version = "2025.1"', 'version = "2025.9"'), "does not match file name"),
        (("\ntest = true\n", '\ntest = "yes"\n'), "test"),
    ],
)
def test_a_wrong_reviewers_file_names_file_and_field(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    from contracts.errors import DefinitionError

    path = reviewers_dir(tmp_path) / "2025.1.toml"
    path.write_text(path.read_text().replace(*change, 1))
    with pytest.raises(DefinitionError, match=message) as caught:
        ReviewerBook.load(tmp_path)
    assert str(caught.value).startswith(str(path))


def test_reviewers_versions_must_not_overlap(tmp_path: Path) -> None:
    from contracts.errors import DefinitionError

    source = (reviewers_dir(tmp_path) / "2025.1.toml").read_text()
    (tmp_path / "2026.1.toml").write_text(source.replace('version = "2025.1"', 'version = "2026.1"'))
    with pytest.raises(DefinitionError, match=r"overlaps version 2025\.1"):
        ReviewerBook.load(tmp_path)
    closed = source.replace(
        "in_force = { from = 2025-01-01T00:00:00+01:00 }",
        "in_force = { from = 2025-01-01T00:00:00+01:00, until = 2026-01-01T00:00:00+01:00 }",
    )
    (tmp_path / "2025.1.toml").write_text(closed)
    later = source.replace('version = "2025.1"', 'version = "2026.1"').replace("from = 2025-01-01", "from = 2026-01-01")
    (tmp_path / "2026.1.toml").write_text(later)
    book = ReviewerBook.load(tmp_path)
    assert [v.version for v in book] == ["2025.1", "2026.1"]
    assert book.in_force(datetime(2026, 3, 1, tzinfo=UTC)).version == "2026.1"  # type: ignore[union-attr]


def test_every_record_a_verdict_writes_matches_its_published_model() -> None:
    from gateway.messages import AuditRecord, QuarantineClosed, ReviewVerdict, SignalEvent, validate

    desk = Desk()
    held = desk.hold(kvk_under_review())
    other = desk.hold(nla_unknown_client(offset=1))
    outputs = []
    for item, kind, reviewer in [
        (held, "release", "r-0001"),
        (held, "release", "r-0002"),
        (other, "discard", "r-0001"),
        (other, "discard", "r-0002"),
        (other, "recheck", "r-0003"),
    ]:
        outputs += desk.verdict(item, kind, reviewer, grounds=None if kind == "recheck" else GROUNDS)[1].outputs
        validate(ReviewVerdict, s.verdict(str(item.position), item.digest, kind, reviewer, LATER))
    assert sorted(m.topic for m in outputs) == ["bd.detectie.mkb", "gkt.quarantine", "gkt.quarantine"]
    for message in outputs:
        model = SignalEvent if message.topic.startswith("bd.") else QuarantineClosed
        validate(model, message.value)
    for record in desk.audit:
        validate(AuditRecord, dumps(record))
    assert {a["outcome"] for a in desk.audit} == {"quarantined", "pending", "released", "discarded", "rejected"}


def test_the_oldest_open_item_is_the_first_received_still_open() -> None:
    desk = Desk()
    first = desk.hold(kvk_under_review())
    second = desk.hold(nla_unknown_client(offset=1))
    assert desk.state.oldest_received() == first.received_at
    desk.verdict(first, "discard", "r-0001")
    desk.verdict(first, "discard", "r-0002")
    assert desk.state.oldest_received() == second.received_at
    desk.verdict(second, "discard", "r-0001")
    desk.verdict(second, "discard", "r-0002")
    assert desk.state.oldest_received() is None
