"""Progress that a log collector sees: plain lines at most every 10 s, and one at the end."""

import io

from gateway.cli.progress import PlainProgress
from tests.helpers import Clock


def test_a_line_at_most_every_ten_seconds_with_count_rate_and_time_left() -> None:
    out, clock = io.StringIO(), Clock()
    with PlainProgress(out, every=10.0, now=clock) as progress:
        task = progress.add_task("replaying", total=1_000)
        for _ in range(80):
            clock.now += 0.125  # 80 records in 10 s (steps exact in binary)
            progress.advance(task)
        for _ in range(40):
            clock.now += 1 / 64  # 0.625 s more: no new line yet
            progress.advance(task)
    lines = out.getvalue().splitlines()
    assert lines == [
        "replaying: 80 of 1,000 records, 8/s, about 115 s left",
        "replaying: done, 120 records in 10.6 s",
    ]


def test_without_a_total_it_counts_and_gives_the_rate() -> None:
    out, clock = io.StringIO(), Clock()
    with PlainProgress(out, every=10.0, now=clock) as progress:
        task = progress.add_task("exporting", total=None)
        clock.now = 20.0
        progress.update(task, completed=4_000)
    assert out.getvalue().splitlines()[0] == "exporting: 4,000 records, 200/s"
