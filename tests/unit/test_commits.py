"""Audited offsets are committed together: at most every half second under load, at once when asked."""

from gateway.kafka.commits import HeldCommits


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_offsets_are_committed_at_once_then_held_until_due() -> None:
    clock = Clock()
    commits = HeldCommits(every_s=0.5, clock=clock)
    commits.add({("in", 0): 10})
    assert commits.take(now=False) == {("in", 0): 10}
    clock.now += 0.1
    commits.add({("in", 0): 20, ("in", 1): 5})
    assert commits.take(now=False) == {}, "not due yet"
    clock.now += 0.2
    commits.add({("in", 0): 30})
    assert commits.take(now=False) == {}
    clock.now += 0.2  # half a second since the last commit
    assert commits.take(now=False) == {("in", 0): 30, ("in", 1): 5}, "the latest of each partition"
    assert commits.take(now=False) == {}, "nothing is committed twice"


def test_asked_to_commit_now_everything_held_goes_whatever_the_time() -> None:
    clock = Clock()
    commits = HeldCommits(every_s=0.5, clock=clock)
    commits.add({("in", 0): 10})
    commits.take(now=False)
    commits.add({("in", 2): 7})
    assert commits.take(now=True) == {("in", 2): 7}  # idle, a rebalance, the stop
    assert commits.take(now=True) == {}, "nothing held: nothing to commit"
