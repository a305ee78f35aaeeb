"""``gkt contracts``: list, schema, check as a partner or developer runs them."""

import json
import shutil
from pathlib import Path

from tests.e2e.conftest import gkt

FIXTURE = Path(__file__).parents[1] / "fixtures" / "uwv" / "contracts"


def test_list_shows_every_version_with_status() -> None:
    result = gkt("contracts", "list")
    assert result.returncode == 0, result.stderr
    rows = [line.split()[:3] for line in result.stdout.splitlines()]
    assert rows == [
        ["nl.kvk.inschrijvingssignaal", "1.0", "published"],
        ["nl.nla.schijnzelfstandigheid", "1.0", "published"],
        ["nl.nla.schijnzelfstandigheid", "1.1", "published"],
        ["nl.nla.schijnzelfstandigheid", "2.0", "published"],
        ["nl.belastingdienst.gkt.signaal", "1.0", "published"],
        ["nl.belastingdienst.gkt.signaal", "1.1", "published"],
        ["nl.belastingdienst.gkt.signaal", "1.2", "published"],
    ]


def test_schema_prints_the_published_json_schema() -> None:
    result = gkt("contracts", "schema", "nl.nla.schijnzelfstandigheid:2.0")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$id"] == "urn:gkt:contract:nl.nla.schijnzelfstandigheid:2.0"
    assert "keten" in schema["properties"]
    assert "intermediair" not in schema["properties"]
    snapshot = Path(__file__).parents[2] / "contracts" / "schemas" / "nl.nla.schijnzelfstandigheid" / "2.0.json"
    assert result.stdout == snapshot.read_text()


def test_schema_of_an_unknown_version_is_a_usage_error() -> None:
    result = gkt("contracts", "schema", "nl.nla.schijnzelfstandigheid:3.0")
    assert result.returncode == 2
    assert "known: nl.belastingdienst.gkt.signaal:1.0" in result.stderr


def test_write_refuses_to_change_a_published_snapshot(tmp_path: Path) -> None:
    target = tmp_path / "contracts"
    shutil.copytree(FIXTURE, target)
    result = gkt("contracts", "schema", "nl.uwv.dienstbetrekkingsignaal:1.0", "--write", "--contracts-dir", str(target))
    assert result.returncode == 1
    assert "a published snapshot never changes" in result.stderr


def test_check_passes_here_and_fails_on_a_breaking_minor_version(tmp_path: Path) -> None:
    assert gkt("contracts", "check").returncode == 0
    target = tmp_path / "contracts"
    shutil.copytree(FIXTURE, target)
    module = (target / "uwv_dienstbetrekkingsignaal_1_0.py").read_text()
    minor = (
        module.replace('version="1.0"', 'version="1.1"')
        .replace("    oordeel: Oordeel\n", "    oordeel: Oordeel\n    sector: StrictStr\n")
        .replace("from pydantic import Field, StrictInt", "from pydantic import Field, StrictInt, StrictStr")
    )
    (target / "uwv_dienstbetrekkingsignaal_1_1.py").write_text(minor)
    published = gkt(
        "contracts", "schema", "nl.uwv.dienstbetrekkingsignaal:1.1", "--write", "--contracts-dir", str(target)
    )
    assert published.returncode == 0, published.stderr
    result = gkt("contracts", "check", "--contracts-dir", str(target))
    assert result.returncode == 1
    assert "nl.uwv.dienstbetrekkingsignaal 1.1: field /sector breaks 1.0: new required field" in result.stderr
