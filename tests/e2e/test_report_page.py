"""``gkt report --html``: one self-contained page, opened in headless Chromium (Debian's ``chromium``, which
``make test`` installs): it renders, every chart is there, nothing is fetched, no console error.

No skip: where the setup could not install Chromium this test fails and says so (README, "Two commands")."""

import re
from datetime import timedelta
from pathlib import Path

from gateway.report.html import page
from tests.browser import Browser
from tests.report_log import NOON, YEAR, Log


def built_page(path: Path, *, threshold: bool) -> int:
    """A page over a log with every table filled; how many tables have rows (each has its chart)."""
    log = Log()
    signals = [log.report("nla", "routed", NOON) for _ in range(15)]
    for _ in range(12):
        log.report("kvk", "rejected", NOON + timedelta(days=60), "CONTRACT_VIOLATION")
    held = log.report("kvk", "quarantined", NOON)
    log.close(held, "released", NOON + timedelta(days=2))
    for signal_id in signals[:11]:
        log.step(signal_id, "geselecteerd", "2026-02-15")
    tables = list(log.tables().values())
    path.write_text(page(YEAR, tables, len(log.records), threshold=threshold), encoding="utf-8")
    return sum(1 for table in tables if table.rows)


def test_the_page_is_self_contained() -> None:
    html = page(YEAR, list(Log().tables().values()), 0, threshold=True)
    assert "<script" not in html
    for reference in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert reference.startswith("#"), reference  # only links inside the page (SVG's own)
    assert "@import" not in html
    assert "url(" not in html


def test_the_page_renders_in_chromium_with_every_chart_and_no_console_error(tmp_path: Path) -> None:
    path = tmp_path / "figures.html"
    charts = built_page(path, threshold=False)
    assert charts == 6
    browser = Browser()
    try:
        visit = browser.open(path)
        assert visit.errors == []
        assert visit.requests == [path.as_uri()], "the page asks for nothing but itself"
        drawn = browser.evaluate(
            "[...document.querySelectorAll('figure.chart svg[role=img]')]"
            ".filter(svg => svg.getBoundingClientRect().width > 200 && svg.getBoundingClientRect().height > 100)"
            ".length"
        )
        assert drawn == charts  # every chart rendered at a readable size
        assert browser.evaluate("document.querySelectorAll('section table tbody tr').length") >= 6
        shot = browser.screenshot()
        (tmp_path / "figures.png").write_bytes(shot)
        assert shot[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(shot) > 50_000, "a blank page is a few KB"
    finally:
        browser.close()


def test_the_browser_check_hears_console_errors_and_requests(tmp_path: Path) -> None:
    """The check above could fail: a page that logs an error and fetches an image is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><img src="missing.png"><script>console.error("boom")</script></body></html>')
    browser = Browser()
    try:
        visit = browser.open(bad)
    finally:
        browser.close()
    assert any("boom" in error for error in visit.errors), visit.errors
    assert any(url.endswith("missing.png") for url in visit.requests), visit.requests
