"""Audited offsets are committed together: at most every half second under load, at once when asked."""

from gateway.kafka.commits import HeldCommits
from tests.helpers import Clock

OWNED = {("in", 0), ("in", 1), ("in", 2)}


def test_the_first_offsets_are_committed_at_once_then_held_until_due() -> None:
    clock = Clock(100.0)
    commits = HeldCommits(every_s=0.5, clock=clock)
    commits.add({("in", 0): 10})
    assert commits.take(now=False, owned=OWNED) == {("in", 0): 10}
    clock.now += 0.1
    commits.add({("in", 0): 20, ("in", 1): 5})
    assert commits.take(now=False, owned=OWNED) == {}, "not due yet"
    clock.now += 0.2
    commits.add({("in", 0): 30})
    assert commits.take(now=False, owned=OWNED) == {}
    clock.now += 0.2  # half a second since the last commit
    assert commits.take(now=False, owned=OWNED) == {("in", 0): 30, ("in", 1): 5}, "the latest of each partition"
    assert commits.take(now=False, owned=OWNED) == {}, "nothing is committed twice"


def test_asked_to_commit_now_everything_held_goes_whatever_the_time() -> None:
    clock = Clock(100.0)
    commits = HeldCommits(every_s=0.5, clock=clock)
    commits.add({("in", 0): 10})
    commits.take(now=False, owned=OWNED)
    commits.add({("in", 2): 7})
    assert commits.take(now=True, owned=OWNED) == {("in", 2): 7}  # idle, a rebalance, the stop
    assert commits.take(now=True, owned=OWNED) == {}, "nothing held: nothing to commit"


def test_offsets_of_a_partition_no_longer_owned_are_dropped_not_committed() -> None:
    commits = HeldCommits(every_s=0.5, clock=Clock())
    commits.add({("in", 0): 10, ("in", 1): 4})
    assert commits.take(now=True, owned={("in", 1)}) == {("in", 1): 4}, "partition 0 moved away"
    assert commits.take(now=True, owned=OWNED) == {}, "and is not held for later"
