"""Replay's check of ``eerdere`` (spec/selection.md): what a record names as earlier must be in the log before it."""

import copy
import random
import uuid
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gateway.selection.earlier_check import check_earlier
from gateway.selection.key import ClientKey

KEY = ClientKey(b"c" * 32)
A, B = KEY.digest("12345678"), KEY.digest("23456789")


def sid(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:gkt:signal:test:{n}"))


def signal(n: int, client: str, minute: int, earlier: list[int], outcome: str = "routed") -> dict[str, Any]:
    return {
        "chain": "gkt.in.nla/0" if outcome == "routed" else "gkt.review/0",
        "seq": n,
        "decided_at": f"2026-03-02T10:{minute:02d}:00.000Z",
        "outcome": outcome,
        "destination": {"topic": "bd.detectie.mkb", "signal_id": sid(n)},
        "client": client,
        "eerdere": {"aantal": len(earlier), "recent": [sid(e) for e in reversed(earlier)]},
    }


def log() -> list[dict[str, Any]]:
    """Client A: signals 1, 2 (released), 3; client B: 4. Each names what came before about its client."""
    return [
        signal(1, A, 1, []),
        signal(2, A, 2, [1], outcome="released"),
        signal(4, B, 3, []),
        signal(3, A, 4, [1, 2]),
        {"chain": "gkt.in.nla/0", "seq": 9, "decided_at": "2026-03-02T10:05:00.000Z", "outcome": "rejected"},
    ]


@given(st.randoms(use_true_random=False))
def test_a_true_log_passes_in_any_order_of_its_records(rng: random.Random) -> None:
    records = log()
    rng.shuffle(records)
    assert check_earlier(records) == []


def test_a_count_above_the_ids_named_is_no_problem() -> None:
    """Ten are named at most; and a process may have seen more than it could name."""
    records = log()
    records[3]["eerdere"]["aantal"] = 40
    assert check_earlier(records) == []


def whats(records: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    return [(problem.signal_id, problem.what) for problem in check_earlier(records)]


def test_every_way_a_named_signal_can_be_wrong_is_found() -> None:
    records = log()
    records[3]["eerdere"]["recent"] = [sid(4), sid(3), sid(77), sid(1)]  # B's, its own, none, and a true one
    records[3]["eerdere"]["aantal"] = 4
    records[1]["decided_at"] = "2026-03-02T10:09:00.000Z"  # released after 3 named it
    records[3]["eerdere"]["recent"].append(sid(2))
    records[3]["eerdere"]["aantal"] = 5
    assert whats(records) == [
        (sid(4), "names a signal about another client"),
        (sid(3), "names its own signal as earlier"),
        (sid(77), "names a signal no routed or released record of the log has"),
        (sid(2), "names a signal the log records only after it"),
    ]


def test_malformed_or_misplaced_fields_are_problems_not_crashes() -> None:
    records = log()
    records[0]["eerdere"] = {"aantal": 0, "recent": "x"}
    records[2]["eerdere"] = {"aantal": 1, "recent": [sid(1), sid(2)]}
    records[4]["client"] = A  # a client on a rejected record
    del records[3]["client"]
    problems = whats(records)
    assert (None, "eerdere is not a count and at most 10 signal ids") in problems
    assert (None, "eerdere counts 1 signals but names 2") in problems
    assert problems.count((None, "client and eerdere belong together, on routed and released records")) == 2


hostile = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["outcome", "client", "eerdere", "destination", "decided_at", "seq", "chain"]), hostile
        ),
        max_size=6,
    )
)
def test_records_of_any_shape_never_stop_the_check(records: list[dict[str, Any]]) -> None:
    for problem in check_earlier([*copy.deepcopy(log()), *records]):
        assert isinstance(problem.what, str)
