"""docs/partners.md shows a key entry and a complete event for every contract version: they stay valid."""

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.agreement import AgreementKey
from gateway.demo import samples as s
from gateway.pipeline import Rules, decide
from gateway.reasons import Outcome, ReasonCode
from tests.helpers import Memory, inbound

PARTNERS_DOC = Path(__file__).parents[2] / "docs" / "partners.md"
RECEIVED = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)  # a minute after the samples' time
_BLOCK = r"<!-- {marker} -->\n```{language}\n(.*?)\n```"


def blocks(marker: str, language: str) -> list[Any]:
    """The code blocks that follow ``<!-- marker -->``; a marker with groups gives tuples."""
    pattern = _BLOCK.format(marker=marker, language=language)
    return re.findall(pattern, PARTNERS_DOC.read_text(), flags=re.DOTALL)


def test_every_contract_version_has_a_sample_event_that_is_decided_as_valid(rules: Rules) -> None:
    found = blocks(r"sample event: (\S+) (\S+)", "json")
    assert {(t, v) for t, v, _ in found} == {(c.type, c.version) for c in rules.contracts}
    for report_type, version, text in found:
        value = text.encode()
        partner, kid = ("kvk", "kvk-2025-01") if report_type == s.KVK_TYPE else ("nla", "nla-2025-01")
        decision = decide(inbound(value, partner=partner, kid=kid, at=RECEIVED), rules, Memory())
        assert decision.event is not None, (report_type, version, decision.reasons)
        assert (decision.event.type, decision.event.version) == (report_type, version)
        # Routed, or held only because the KVK agreement asks every report to be reviewed.
        held = [r.code for r in decision.reasons]
        assert decision.outcome is Outcome.ROUTED or held == [ReasonCode.REVIEW_REQUIRED], (report_type, held)


def test_the_agreement_key_entry_is_one_the_loader_takes() -> None:
    [text] = blocks("agreement key entry", "toml")
    [entry] = tomllib.loads(text)["keys"]
    key = AgreementKey.model_validate(entry)
    assert (key.kid, key.alg) == ("nla-2026-01", "EdDSA")


def test_the_new_partner_walk_through_ends_with_agreements_check_passing(tmp_path: Path) -> None:
    """docs/partners.md section 2: the UWV agreement, as written there, passes the check it tells you to run."""
    from typer.testing import CliRunner

    from gateway.cli.app import app

    [(name, text)] = blocks(r"agreement: (\S+)", "toml")
    target = tmp_path / "contracts" / "agreements" / name
    target.parent.mkdir(parents=True)
    target.write_text(text + "\n")
    fixtures = Path(__file__).parents[1] / "fixtures" / "uwv" / "contracts"
    result = CliRunner().invoke(
        app,
        ["agreements", "check", str(tmp_path / "contracts" / "agreements")],
        env={"GKT_CONTRACTS_DIR": str(fixtures)},
    )
    assert result.exit_code == 0, result.output
    assert "uwv 2026.1: in force; keys uwv-2026-01; nl.uwv.dienstbetrekkingsignaal 1.0" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 agreement files of 1 partners are valid (1 warnings)"
    # The doc's table names every field the file has, and the file has every field the loader requires.
    first_cells = [line.split("|")[1] for line in PARTNERS_DOC.read_text().splitlines() if line.startswith("| `")]
    documented = {name for cell in first_cells for name in re.findall(r"`([a-z_]+)`", cell)}
    assert set(tomllib.loads(text)) <= documented | {"keys", "report_types"}
    assert {"partner", "oin", "legal_basis", "purpose", "in_force", "evidence", "optional_fields"} <= documented
