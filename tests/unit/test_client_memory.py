"""The client memory of spec/selection.md: earlier signals per client, by keyed hash, rebuilt from the audit log."""

import hmac
from hashlib import sha256

from hypothesis import given
from hypothesis import strategies as st

from gateway.selection.clients import MOST_RECENT, WINDOW_MS, ClientMemory, EarlierSignal, client_digest

KEY = b"k" * 32
DAY = 86_400_000


def test_a_client_is_known_by_keyed_hash_never_by_kvk_nummer() -> None:
    digest = client_digest(KEY, "12345678")
    assert digest == "hmac-sha256:" + hmac.new(KEY, b"12345678", sha256).hexdigest()
    assert "12345678" not in digest
    assert client_digest(b"x" * 32, "12345678") != digest  # another key: another memory


def test_earlier_counts_five_years_before_receipt_newest_first_ten_named() -> None:
    memory = ClientMemory()
    client = client_digest(KEY, "12345678")
    now = 1_772_409_600_000  # 2026-03-02T00:00:00Z
    for n in range(12):
        memory.remember(client, EarlierSignal(now - (n + 1) * DAY, f"s{n}", "nla" if n % 2 else "kvk"))
    memory.remember(client, EarlierSignal(now - WINDOW_MS - 1, "too-old", "nla"))
    memory.remember(client, EarlierSignal(now, "same-moment", "nla"))  # not before: not earlier
    memory.remember(client_digest(KEY, "23456789"), EarlierSignal(now - DAY, "other-client", "nla"))
    earlier = memory.earlier(client, now)
    assert earlier.aantal == 12
    assert [s.signal_id for s in earlier.recent] == [f"s{n}" for n in range(MOST_RECENT)]
    assert earlier.as_audit() == {"aantal": 12, "recent": [f"s{n}" for n in range(MOST_RECENT)]}
    assert earlier.as_signal()["recent"][0] == {  # type: ignore[index]
        "signaalId": "s0",
        "partner": "kvk",
        "ontvangenOp": "2026-03-01T00:00:00.000Z",
    }
    assert memory.earlier(client_digest(KEY, "99999999"), now).aantal == 0


def test_one_signal_counts_once_however_often_it_is_read() -> None:
    memory = ClientMemory()
    client = client_digest(KEY, "12345678")
    for _ in range(3):
        memory.remember(client, EarlierSignal(DAY, "s1", "nla"))
    assert memory.earlier(client, 2 * DAY).aantal == 1
    assert len(memory) == 1


def routed(client: str | None, signal_id: str, at: str, outcome: str = "routed") -> dict[str, object]:
    return {
        "outcome": outcome,
        "client": client,
        "destination": {"topic": "bd.detectie.mkb", "signal_id": signal_id},
        "inbound": {"topic": "gkt.in.nla", "partition": 0, "offset": 1, "timestamp": at},
        "versions": {"agreement": "nla:2026.1:sha256:ab"},
    }


def test_the_memory_is_rebuilt_from_audit_records_alone() -> None:
    memory = ClientMemory()
    client = client_digest(KEY, "12345678")
    memory.apply(routed(client, "s1", "2026-03-02T09:00:00.000Z"))
    memory.apply(routed(client, "s2", "2026-03-03T09:00:00.000Z", outcome="quarantined"))  # not a signal
    memory.apply(routed(None, "s3", "2026-03-03T09:00:00.000Z"))  # a record from before client memory
    # A release: its verdict record's own time is not the report's; the caller gives the report's from the review state.
    memory.apply(routed(client, "s4", "2026-06-01T00:00:00.000Z", outcome="released"), received_ms=1_772_323_200_000)
    earlier = memory.earlier(client, 1_800_000_000_000)
    assert [(s.signal_id, s.partner, s.received_ms) for s in earlier.recent] == [
        ("s1", "nla", 1_772_442_000_000),
        ("s4", "nla", 1_772_323_200_000),
    ]
    assert earlier.aantal == 2


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
        client = client_digest(KEY, name)
        memory.remember(client, EarlierSignal(day * DAY, f"s{n}", "nla"))
        kept.setdefault(f"s{n}", (client, day * DAY))
    asked = asked_day * DAY
    for client in (client_digest(KEY, "a"), client_digest(KEY, "b")):
        expected = sorted(
            ((ms, sid) for sid, (c, ms) in kept.items() if c == client and asked - WINDOW_MS <= ms < asked),
            reverse=True,
        )
        earlier = memory.earlier(client, asked)
        assert earlier.aantal == len(expected)
        assert [s.received_ms for s in earlier.recent] == [ms for ms, _ in expected[:MOST_RECENT]]
    dropped = memory.prune(pruned_day * DAY)
    assert dropped == sum(1 for _, ms in kept.values() if ms < pruned_day * DAY)
    assert len(memory) == sum(1 for _, ms in kept.values() if ms >= pruned_day * DAY)


def test_ids_and_clients_of_any_shape_come_back_as_they_went_in() -> None:
    """Signal ids are kept as bytes (a UUID in 16): what the memory names is the id it was given, of any form."""
    memory = ClientMemory()
    client = client_digest(KEY, "12345678")
    ids = ["0b8f3c2e-6f0e-5d5b-9d6a-3f1e2a4b5c6d", "fifteen-chars-x", "0B8F3C2E-6F0E-5D5B-9D6A-3F1E2A4B5C6E", "é"]
    for n, signal_id in enumerate(ids):
        memory.remember(client, EarlierSignal(n, signal_id, "nla"))
    named = [s.signal_id for s in memory.earlier(client, 10).recent]
    assert sorted(named) == sorted(ids)
    # Only a digest of ours is a client: a KVK-nummer given by mistake is never stored.
    memory.remember("12345678", EarlierSignal(1, "other", "nla"))
    memory.remember("hmac-sha256:" + "zz" * 32, EarlierSignal(1, "other2", "nla"))
    assert len(memory) == 4
