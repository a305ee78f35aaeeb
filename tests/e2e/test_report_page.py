"""``gkt report --html``: one self-contained page, opened in headless Chromium (Debian's ``chromium``, which
``make test`` installs): it renders, every chart is there, nothing is fetched, no console error.

No skip: where the setup could not install Chromium this test fails and says so (README, "Two commands")."""

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

from gateway.report.html import page
from tests.report_log import NOON, YEAR, Log

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


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


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert BROWSER is not None, (
        "Debian's chromium is not installed: `make test` installs it (apt-get, as root); without it the report "
        "page cannot be checked"
    )
    command = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


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
    shot = tmp_path / "figures.png"
    rendered = chromium(f"--screenshot={shot}", "--window-size=1200,4000", path.as_uri())
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000, "a blank page is a few KB"
    errors = [line for line in rendered.stderr.splitlines() if "CONSOLE" in line or "Failed to load" in line]
    assert errors == []
    dom = chromium("--dump-dom", path.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(re.findall(r'<svg[^>]*role="img"', dom.stdout)) == charts  # every chart in the rendered page
    assert dom.stdout.count("<table>") == 6  # and every figure in a table beneath it
    assert "Days from signal to geselecteerd".lower() in dom.stdout.lower()
    assert [line for line in dom.stderr.splitlines() if "CONSOLE" in line] == []
