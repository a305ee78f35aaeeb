"""Sample partners, keys and reports: the demo's inputs and the tests' building blocks."""

import contextlib
import copy
import functools
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, OKPKey

from contracts.jsonio import dumps
from gateway.demo.keys import DEMO_KIDS
from gateway.feedback.step import STATUSES
from gateway.signing import sign_detached

KEYS_ENV = "GKT_DEMO_KEYS"  # the directory of <kid>.pem the samples are signed with
REFERENCE_FILE = Path(__file__).parent / "reference.jsonl"

NLA_SOURCE = "urn:nld:oin:00000099111222333000"
KVK_SOURCE = "urn:nld:oin:00000099444555666000:handelsregister"
NLA_TYPE = "nl.nla.schijnzelfstandigheid"
KVK_TYPE = "nl.kvk.inschrijvingssignaal"

KNOWN_CLIENT_MKB = "12345678"
KNOWN_CLIENT_GO = "23456789"
KNOWN_CLIENT_HT = "34567890"  # horizontal supervision at level fiscaliteit
KNOWN_CLIENT_HT_REGISTERED = "71234560"  # level volledigheid: policy 2 registers, no further investigation
KNOWN_CLIENT_HT_NO_LEVEL = "67890123"  # the reference data gives no level: policy 2 cannot route
UNKNOWN_CLIENT = "87654321"

REVIEWERS = ("r-0001", "r-0002", "r-0003")  # contracts/reviewers/2025.1.toml, test keys


def keys_dir() -> Path:
    """Where the demo's private keys are: ``GKT_DEMO_KEYS`` (set by ``gkt demo`` to the keys it made, and by
    the tests to ``tests/fixtures/demo-keys``). The installed package holds none (gateway/demo/keys.py)."""
    where = os.environ.get(KEYS_ENV)
    if not where:
        raise RuntimeError(f"no demo keys: {KEYS_ENV} is not set (gkt demo makes its own; the tests set it)")
    return Path(where)


@contextlib.contextmanager
def keys_in(directory: Path) -> Iterator[None]:
    """Sign the samples with the keys in ``directory`` meanwhile (this process and the ones it starts)."""
    before = os.environ.get(KEYS_ENV)
    os.environ[KEYS_ENV] = str(directory)
    try:
        yield
    finally:
        if before is None:
            del os.environ[KEYS_ENV]
        else:
            os.environ[KEYS_ENV] = before


@functools.lru_cache(maxsize=32)
def _key(directory: str, kid: str) -> OKPKey | ECKey:
    pem = (Path(directory) / f"{kid}.pem").read_bytes()
    return OKPKey.import_key(pem) if DEMO_KIDS[kid] == "EdDSA" else ECKey.import_key(pem)


def partner_key(kid: str) -> OKPKey | ECKey:
    """A demo partner's (or reviewer's) private key."""
    return _key(str(keys_dir()), kid)


def sign(value: bytes, kid: str) -> bytes:
    """The ``gkt-signature`` header value for ``value``, by a demo partner key."""
    return sign_detached(value, partner_key(kid), kid, DEMO_KIDS[kid]).encode("ascii")


def reviewer_kid(reviewer: str) -> str:
    return f"{reviewer}-2025"


def verdict(
    item: str, digest: str, kind: str, reviewer: str, at: datetime, grounds: str | None = "demo: checked by hand"
) -> bytes:
    """A verdict value (spec/review.md); ``grounds`` None leaves them out (as a recheck may)."""
    body: dict[str, Any] = {"item": item, "event_digest": digest, "verdict": kind, "reviewer": reviewer}
    body["at"] = at.isoformat()
    if grounds is not None:
        body["grounds"] = grounds
    return dumps(body)


def sign_verdict(value: bytes, reviewer: str) -> bytes:
    """The ``gkt-signature`` header value of a verdict, by a demo reviewer's key."""
    return sign(value, reviewer_kid(reviewer))


FEEDBACK_STATUSES = STATUSES  # every status a team may report


def team_kid(team: str) -> str:
    return f"{team}-2025"


def feedback(signal_id: str, status: str, on: str, team: str) -> bytes:
    """A detection team's step on a signal (spec/selection.md), as ``gkt feedback send`` writes it."""
    return dumps({"signaalId": signal_id, "status": status, "op": on, "team": team})


def sign_feedback(value: bytes, team: str) -> bytes:
    """The ``gkt-signature`` header value of a step, by a demo team's key."""
    return sign(value, team_kid(team))


def nla_report(client: str = KNOWN_CLIENT_MKB, **changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "zaakReferentie": "NLA-2025-000123",
        "inspectieDatum": "2025-03-10",
        "opdrachtgever": {
            "kvkNummer": client,
            "naam": "Bouwbedrijf De Vries B.V.",
            "rsin": "100000009",
        },
        "opdrachtnemers": [
            {"functie": "timmerman", "bsn": "123456782"},
            {"functie": "timmerman", "kvkNummer": "76543210"},
        ],
        "periode": {"van": "2024-09-01", "tot": "2025-03-10"},
        "indicatoren": [{"code": "GEZAG"}, {"code": "INBEDDING"}, {"code": "LOON"}],
        "oordeel": "zwaar_vermoeden",
        "kwaadwillendheid": False,
    }
    report.update(changes)
    return report


def nla_report_11(client: str = KNOWN_CLIENT_MKB, **changes: Any) -> dict[str, Any]:
    """Version 1.1: the 1.0 report with the intermediary that hired the workers out."""
    intermediair = {"kvkNummer": "11223344", "naam": "Flex Uitzendbureau B.V.", "rol": "uitlener"}
    return nla_report(client, **{"intermediair": intermediair, **changes})


def nla_report_20(client: str = KNOWN_CLIENT_MKB, **changes: Any) -> dict[str, Any]:
    """Version 2.0: the whole chain, and the source of every indicator."""
    keten = [
        {"kvkNummer": "11223344", "naam": "Flex Uitzendbureau B.V.", "rol": "uitlener"},
        {"kvkNummer": "55667788", "naam": "Klusplatform B.V.", "rol": "platform"},
    ]
    indicatoren = [
        {"code": "GEZAG", "bron": "waarneming"},
        {"code": "INBEDDING", "bron": "verklaring"},
        {"code": "LOON", "bron": "document"},
    ]
    return nla_report(client, **{"keten": keten, "indicatoren": indicatoren, **changes})


def kvk_report(client: str = KNOWN_CLIENT_MKB, **changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = {
        "signaalReferentie": "KVK-2025-004711",
        "inschrijving": {
            "kvkNummer": "65432109",
            "datum": "2025-02-03",
            "rechtsvorm": "eenmanszaak",
        },
        "opdrachtgever": {"kvkNummer": client, "naam": "Logistiek Noord B.V."},
        "indicatoren": ["EERDER_IN_DIENST", "EEN_OPDRACHTGEVER"],
        "oordeel": "zwaar_vermoeden",
    }
    report.update(changes)
    return report


def event(
    data: dict[str, Any],
    *,
    time: datetime,
    source: str = NLA_SOURCE,
    report_type: str = NLA_TYPE,
    version: str = "1.0",
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": report_type,
        "dataschema": f"urn:gkt:contract:{report_type}:{version}",
        "time": time.isoformat(),
        "datacontenttype": "application/json",
        "data": copy.deepcopy(data),
    }


# One complete report per contract version (``gkt sample``, docs/partners.md); a test checks every version has one.
SAMPLE_REPORTS = {
    (NLA_TYPE, "1.0"): (nla_report, NLA_SOURCE),
    (NLA_TYPE, "1.1"): (nla_report_11, NLA_SOURCE),
    (NLA_TYPE, "2.0"): (nla_report_20, NLA_SOURCE),
    (KVK_TYPE, "1.0"): (kvk_report, KVK_SOURCE),
}


def sample_event(
    report_type: str, version: str, *, time: datetime, source: str | None = None, event_id: str | None = None
) -> dict[str, Any] | None:
    """A valid event of that contract version, dated ``time``; ``None`` when there is no such sample."""
    found = SAMPLE_REPORTS.get((report_type, version))
    if found is None:
        return None
    report, sample_source = found
    return event(
        report(),
        time=time,
        source=source or sample_source,
        report_type=report_type,
        version=version,
        event_id=event_id or f"sample-{uuid.uuid4().hex[:16]}",
    )


def encode(event_obj: dict[str, Any]) -> bytes:
    return dumps(event_obj)
