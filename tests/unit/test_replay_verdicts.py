"""Replay of review chains: in the order decided, a masked item never looked up, one bad record never stops it."""

import pytest

from gateway.audit import replay as replay_module
from gateway.audit.replay import Replayer, in_decided_order, positions_named
from tests.unit.test_review import Desk, kvk_under_review


def replayer(desk: Desk) -> Replayer:
    return Replayer(desk.rules, desk.audit, lambda _moment: desk.rules.reference)


def test_a_verdict_on_an_item_that_never_existed_is_replayed_as_refused_without_a_lookup() -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    unknown, _ = desk.verdict(held, "release", "r-0001", item="gkt.in.kvk/0/99")
    assert unknown["review"]["item"] == "xxx.xx.xxx/9/99", "the sender's item is kept masked (G7)"
    desk.verdict(held, "release", "r-0001")
    desk.verdict(held, "release", "r-0002")
    # Only positions the log decided are read back: never the masked item's "topic".
    assert positions_named(desk.audit) == set(desk.records)
    report = replayer(desk).run(desk.records)
    assert report.ok, (report.differences, report.unverifiable)
    assert report.identical == len(desk.audit)


def test_a_record_replay_cannot_decide_is_reported_and_the_rest_replayed(monkeypatch: pytest.MonkeyPatch) -> None:
    desk = Desk()
    held = desk.hold(kvk_under_review())
    desk.verdict(held, "release", "r-0001")
    desk.verdict(held, "release", "r-0002")
    calls = []

    def broken_once(*args: object) -> object:
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("a bug in replay")
        return original(*args)

    original = replay_module.decide_verdict
    monkeypatch.setattr(replay_module, "decide_verdict", broken_once)
    report = replayer(desk).run(desk.records)
    assert len(report.unverifiable) == 1
    assert "could not be replayed (RuntimeError)" in report.unverifiable[0]
    assert report.identical == len(desk.audit) - 1


def test_verdicts_replay_in_the_order_decided() -> None:
    one_chain = [
        {"chain": "gkt.review/0", "seq": 2, "decided_at": "2025-06-01T10:00:00.000Z"},
        {"chain": "gkt.review/0", "seq": 1, "decided_at": "2025-06-01T10:00:05.000Z"},  # a clock stepped back
    ]
    assert [r["seq"] for r in in_decided_order(one_chain)] == [1, 2], "one chain: seq, never the clock"
    two_chains = [
        {"chain": "gkt.review/1", "seq": 0, "decided_at": "2025-06-01T10:00:03.000Z"},
        {"chain": "gkt.review/0", "seq": 1, "decided_at": "2025-06-01T10:00:04.000Z"},
        {"chain": "gkt.review/0", "seq": 0, "decided_at": "2025-06-01T10:00:01.000Z"},
    ]
    assert [(r["chain"], r["seq"]) for r in in_decided_order(two_chains)] == [
        ("gkt.review/0", 0),
        ("gkt.review/1", 0),
        ("gkt.review/0", 1),
    ]
