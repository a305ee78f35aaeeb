"""The client memory of spec/selection.md: earlier signals per client, by keyed hash, rebuilt from the audit log."""

import hmac
import uuid
from hashlib import sha256
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.selection.clients import MOST_RECENT, WINDOW_MS, ClientMemory, EarlierSignal, signal_id_bytes
from gateway.selection.key import ClientKey, ClientKeyError

KEY = ClientKey(b"k" * 32)
DAY = 86_400_000


def sid(n: int | str) -> str:
    """A signal id in the gateway's form (uuid5), one per ``n``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:gkt:signal:test:{n}"))


def nothing_held(item: str) -> int | None:
    return None


def test_a_client_is_known_by_keyed_hash_never_by_kvk_nummer() -> None:
    digest = KEY.digest("12345678")
    assert digest == "hmac-sha256:" + hmac.new(b"k" * 32, b"12345678", sha256).hexdigest()
    assert "12345678" not in digest
    assert ClientKey(b"x" * 32).digest("12345678") != digest  # another key: another memory


def test_a_key_file_round_trips_and_a_short_or_garbled_one_is_refused_without_quoting_it() -> None:
    made = ClientKey.generate()
    assert ClientKey.parse(made.text()) == made
    assert ClientKey.parse("  " + made.text().strip() + "==\n") == made  # padding and whitespace are no matter
    assert ClientKey.generate() != made
    assert made.text().strip() not in repr(made)
    for text in ("c2hvcnQ", "not base64 at all!", "", "a" * 43 + "\n" + "b" * 43):
        with pytest.raises(ClientKeyError) as refused:
            ClientKey.parse(text)
        assert text.strip() == "" or text.strip()[:8] not in str(refused.value)


def test_earlier_counts_five_years_before_receipt_newest_first_ten_named() -> None:
    memory = ClientMemory()
    client = KEY.digest("12345678")
    now = 1_772_409_600_000  # 2026-03-02T00:00:00Z
    for n in range(12):
        memory.remember(client, EarlierSignal(now - (n + 1) * DAY, sid(n), "nla" if n % 2 else "kvk"))
    memory.remember(client, EarlierSignal(now - WINDOW_MS - 1, sid("too-old"), "nla"))
    memory.remember(client, EarlierSignal(now, sid("same-moment"), "nla"))  # not before: not earlier
    memory.remember(KEY.digest("23456789"), EarlierSignal(now - DAY, sid("other-client"), "nla"))
    earlier = memory.earlier(client, now)
    assert earlier.aantal == 12
    assert [s.signal_id for s in earlier.recent] == [sid(n) for n in range(MOST_RECENT)]
    assert earlier.as_audit() == {"aantal": 12, "recent": [sid(n) for n in range(MOST_RECENT)]}
    assert earlier.as_signal()["recent"][0] == {  # type: ignore[index]
        "signaalId": sid(0),
        "partner": "kvk",
        "ontvangenOp": "2026-03-01T00:00:00.000Z",
    }
    assert memory.earlier(KEY.digest("99999999"), now).aantal == 0


def test_one_signal_counts_once_however_often_it_is_read() -> None:
    memory = ClientMemory()
    client = KEY.digest("12345678")
    for _ in range(3):
        memory.remember(client, EarlierSignal(DAY, sid(1), "nla"))
    assert memory.earlier(client, 2 * DAY).aantal == 1
    assert len(memory) == 1


def audit(
    client: Any, signal_id: Any, at: str, outcome: str = "routed", item: str | None = None, offset: int = 1
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "outcome": outcome,
        "client": client,
        "destination": {"topic": "bd.detectie.mkb", "signal_id": signal_id},
        "inbound": {"topic": "gkt.in.nla", "partition": 0, "offset": offset, "timestamp": at},
        "versions": {"agreement": "nla:2026.1:sha256:ab"},
    }
    if item is not None:
        record["outcome"] = "released" if outcome == "routed" else outcome
        record["review"] = {"item": item, "verdict": "release", "reviewer": "r1"}
        record["inbound"] = {"topic": "gkt.review", "partition": 0, "offset": offset, "timestamp": at}
    return record


def test_the_memory_is_rebuilt_from_audit_records_alone() -> None:
    memory = ClientMemory()
    client = KEY.digest("12345678")
    memory.apply(audit(client, sid(1), "2026-03-02T09:00:00.123Z"), nothing_held)
    memory.apply(audit(client, sid(2), "2026-03-03T09:00:00.000Z", outcome="quarantined"), nothing_held)
    memory.apply(audit(None, sid(3), "2026-03-03T09:00:00.000Z"), nothing_held)  # from before the client memory
    # A release counts from its report's receipt, which the review state knows, not from the verdict's time.
    memory.apply(
        audit(client, sid(4), "2026-06-01T00:00:00.000Z", item="gkt.in.nla/0/7"),
        lambda item: 1_772_323_200_000 if item == "gkt.in.nla/0/7" else None,
    )
    earlier = memory.earlier(client, 1_800_000_000_000)
    assert [(s.signal_id, s.partner, s.received_ms) for s in earlier.recent] == [
        (sid(1), "nla", 1_772_442_000_123),
        (sid(4), "nla", 1_772_323_200_000),
    ]
    assert earlier.aantal == 2


def test_a_release_read_before_its_quarantine_decision_waits_for_it() -> None:
    """Audit partitions are read in no fixed order: the verdict's chain may come first."""
    memory = ClientMemory()
    client = KEY.digest("12345678")
    memory.apply(audit(client, sid(5), "2026-06-01T00:00:00.000Z", item="gkt.in.nla/0/7", offset=3), nothing_held)
    assert memory.earlier(client, 1_900_000_000_000).aantal == 0
    memory.apply(audit(None, None, "2026-03-01T00:00:00.000Z", outcome="quarantined", offset=8), nothing_held)
    assert memory.earlier(client, 1_900_000_000_000).aantal == 0  # another item
    memory.apply(audit(None, None, "2026-03-01T00:00:00.000Z", outcome="quarantined", offset=7), nothing_held)
    assert [s.received_ms for s in memory.earlier(client, 1_900_000_000_000).recent] == [1_772_323_200_000]


def test_releases_waiting_for_a_report_never_decided_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.selection.clients.MAX_PENDING", 3)
    memory = ClientMemory()
    client = KEY.digest("12345678")
    for n in range(5):
        memory.apply(audit(client, sid(n), "2026-06-01T00:00:00.000Z", item=f"gkt.in.nla/0/{n}"), nothing_held)
    for n in range(5):
        memory.apply(audit(None, None, "2026-03-01T00:00:00.000Z", outcome="quarantined", offset=n), nothing_held)
    assert {s.signal_id for s in memory.earlier(client, 1_900_000_000_000).recent} == {sid(2), sid(3), sid(4)}


hostile = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=80),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
)


@given(
    client=st.one_of(hostile, st.just(KEY.digest("12345678"))),
    signal_id=st.one_of(hostile, st.just(sid(1)), st.just(sid(1).upper())),
    at=st.one_of(st.text(max_size=40), st.just("2026-03-02T09:00:00Z"), st.just("2026-03-02T09:00:00")),
    outcome=st.sampled_from(["routed", "released", "quarantined", "rejected", "x"]),
    agreement=hostile,
    item=st.one_of(st.none(), st.text(max_size=30)),
)
def test_a_forged_audit_record_of_any_shape_is_taken_whole_or_not_at_all(
    client: Any, signal_id: Any, at: str, outcome: str, agreement: Any, item: str | None
) -> None:
    """Anyone who can write ``gkt.audit`` can write anything there: nothing raises, and what the memory gives
    back is always a signal's shape (a UUID, a partner name, a time)."""
    memory = ClientMemory()
    record = audit(client, signal_id, at, outcome=outcome, item=item)
    record["versions"] = {"agreement": agreement}
    memory.apply(record, lambda _: 1_772_323_200_000)
    memory.apply({"outcome": outcome, "inbound": "x", "review": [], "destination": 3}, nothing_held)
    for signal in memory.earlier(KEY.digest("12345678"), 1_900_000_000_000).recent:
        assert str(uuid.UUID(signal.signal_id)) == signal.signal_id
        assert signal.partner.isascii()
        assert 2 <= len(signal.partner) <= 31
        assert signal.as_signal()["ontvangenOp"].endswith("Z")


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 20 * 365), st.integers(0, 40)),
        max_size=60,
    ),
    st.integers(0, 20 * 365),
    st.integers(0, 20 * 365),
)
def test_earlier_and_prune_agree_with_a_plain_count(
    signals: list[tuple[str, int, int]], asked_day: int, pruned_day: int
) -> None:
    memory = ClientMemory()
    kept: dict[str, tuple[str, int]] = {}
    for name, day, n in signals:
        client = KEY.digest(name)
        memory.remember(client, EarlierSignal(day * DAY, sid(n), "nla"))
        kept.setdefault(sid(n), (client, day * DAY))
    asked = asked_day * DAY
    for client in (KEY.digest("a"), KEY.digest("b")):
        expected = sorted(
            ((ms, signal) for signal, (c, ms) in kept.items() if c == client and asked - WINDOW_MS <= ms < asked),
            reverse=True,
        )
        earlier = memory.earlier(client, asked)
        assert earlier.aantal == len(expected)
        assert [s.received_ms for s in earlier.recent] == [ms for ms, _ in expected[:MOST_RECENT]]
    dropped = memory.prune(pruned_day * DAY)
    assert dropped == sum(1 for _, ms in kept.values() if ms < pruned_day * DAY)
    assert len(memory) == sum(1 for _, ms in kept.values() if ms >= pruned_day * DAY)


def test_only_what_the_gateway_writes_is_remembered() -> None:
    """An id not in the gateway's form, a KVK-nummer given for a digest, a partner no agreement could name:
    none is stored, so every entry has a known size and every id named is one a signal can carry."""
    memory = ClientMemory()
    client = KEY.digest("12345678")
    memory.remember(client, EarlierSignal(1, sid(1), "nla"))
    memory.remember(client, EarlierSignal(2, "fifteen-chars-x", "nla"))
    memory.remember(client, EarlierSignal(3, sid(2).upper(), "nla"))
    memory.remember(client, EarlierSignal(4, sid(3), "NLA<script>"))
    memory.remember("12345678", EarlierSignal(5, sid(4), "nla"))
    memory.remember("hmac-sha256:" + "zz" * 32, EarlierSignal(6, sid(5), "nla"))
    assert [s.signal_id for s in memory.earlier(client, 10).recent] == [sid(1)]
    assert len(memory) == 1


def _uuid_round_trip(text: str) -> bytes | None:
    """What ``signal_id_bytes`` must say: a UUID whose text ``str(uuid.UUID(...))`` writes back as it is."""
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return None
    return parsed.bytes if str(parsed) == text else None


def _spelled(value: uuid.UUID, how: int) -> str:
    text = str(value)
    return [text, text.upper(), text.replace("-", ""), "{" + text + "}", "urn:uuid:" + text, text + "\n", " " + text][
        how
    ]


@given(st.uuids(), st.integers(min_value=0, max_value=6), st.integers(min_value=0, max_value=35), st.characters())
def test_a_signal_id_is_taken_in_the_gateways_form_only(value: uuid.UUID, how: int, at: int, char: str) -> None:
    """Equal to parsing it as a UUID and writing it back, for every spelling UUID() takes and one character
    changed anywhere (a digit beyond ASCII, a dash moved, upper case)."""
    spelled = _spelled(value, how)
    changed = spelled[:at] + char + spelled[at + 1 :]
    for text in (spelled, changed):
        assert signal_id_bytes(text) == _uuid_round_trip(text)
    assert signal_id_bytes(str(value)) == value.bytes


@given(st.text(max_size=40) | st.none() | st.integers())
def test_anything_else_is_no_signal_id(value: object) -> None:
    assert signal_id_bytes(value) == (_uuid_round_trip(value) if isinstance(value, str) else None)
