"""A third partner and report type, added with files alone, routes through the real broker."""

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.agreement_book import DEFAULT_DIR
from contracts.jsonio import dumps
from contracts.signal import Signal
from gateway.demo import samples as s
from gateway.demo.scenario import Sample
from gateway.reasons import Outcome
from gateway.signing import Signer
from gateway.types import PartnerId
from tests.integration.harness import Harness

pytestmark = pytest.mark.kafka

FIXTURES = Path(__file__).parents[1] / "fixtures" / "uwv"
GATEWAY = Path(__file__).parents[2] / "gateway"


def uwv_setup(tmp_path: Path) -> tuple[Path, Signer]:
    agreements = tmp_path / "agreements"
    shutil.copytree(DEFAULT_DIR, agreements)
    partner_key = Signer.generate("uwv-2025-01")
    public = partner_key.public_pem().decode().replace("\n", "\\n")
    template = (FIXTURES / "agreement.toml.template").read_text()
    (agreements / "uwv").mkdir()
    (agreements / "uwv" / "2025.1.toml").write_text(template.replace("{public_key}", public))
    return agreements, partner_key


def uwv_event(partner_key: Signer, **changes: object) -> Sample:
    data = {
        "meldingNummer": "UWV-2025-77",
        "werkgever": {"kvkNummer": s.KNOWN_CLIENT_MKB, "naam": "Schoonmaak B.V."},
        "aantalWerkenden": 14,
        "van": "2025-01-01",
        "tot": "2025-05-31",
        "indicatoren": ["LOON", "GEZAG"],
        "oordeel": "zwaar_vermoeden",
        **changes,
    }
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "urn:nld:oin:00000099777888999000",
        "type": "nl.uwv.dienstbetrekkingsignaal",
        "dataschema": "urn:gkt:contract:nl.uwv.dienstbetrekkingsignaal:1.0",
        "time": datetime.now(UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": data,
    }
    value = dumps(event)
    return Sample(
        "uwv", PartnerId("uwv"), value, (("gkt-signature", partner_key.sign(value).encode()),), Outcome.ROUTED
    )


def test_the_gateway_code_does_not_know_the_new_partner() -> None:
    for path in GATEWAY.rglob("*.py"):
        assert "uwv" not in path.read_text().lower(), path


async def test_a_new_partner_routes_from_files_alone(kafka: str, prefix: str, tmp_path: Path) -> None:
    agreements, partner_key = uwv_setup(tmp_path)
    harness = await Harness(kafka, prefix, agreements=agreements, contracts_dir=FIXTURES / "contracts").setup()
    assert "uwv" in harness.rules.agreements.partners()
    async with harness.gateway():
        await harness.publish([uwv_event(partner_key), uwv_event(partner_key, oordeel="vermoeden")])
        audit = await harness.wait_for_audit(2)
    assert sorted(a["outcome"] for a in audit) == ["rejected", "routed"]
    routed = next(a for a in audit if a["outcome"] == "routed")
    assert routed["versions"]["contract"] == "nl.uwv.dienstbetrekkingsignaal:1.0"
    assert routed["versions"]["agreement"].startswith("uwv:2025.1:sha256:")
    [record] = await harness.records(harness.topics.destination("bd.detectie.mkb"))
    signal = Signal.model_validate(json.loads(record.value)["data"], strict=False)
    assert (signal.melding.partner, signal.opdrachtnemers.aantal) == ("uwv", 14)
    receipts = await harness.records(harness.topics.feedback(PartnerId("uwv")))
    assert len(receipts) == 2
