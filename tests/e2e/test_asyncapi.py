"""``gkt asyncapi``: a valid AsyncAPI 3.0 document of every topic and message."""

import json
from pathlib import Path

import jsonschema

from tests.e2e.conftest import gkt

SPEC_SCHEMA = Path(__file__).parents[1] / "fixtures" / "asyncapi" / "asyncapi-3.0.0.json"


def document() -> dict:  # type: ignore[type-arg]
    result = gkt("asyncapi", "--topic-prefix", "acc.")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_the_document_is_valid_asyncapi_3() -> None:
    doc = document()
    assert doc["asyncapi"] == "3.0.0"
    jsonschema.validate(doc, json.loads(SPEC_SCHEMA.read_text()))


def test_a_broken_document_is_refused_by_the_validator() -> None:
    doc = document()
    doc["channels"]["acc.gkt.audit"]["address"] = 42
    try:
        jsonschema.validate(doc, json.loads(SPEC_SCHEMA.read_text()))
    except jsonschema.ValidationError:
        return
    raise AssertionError("the validator accepted a channel address that is not a string")


def test_every_topic_and_message_is_described() -> None:
    doc = document()
    assert sorted(doc["channels"]) == sorted(
        [
            "acc.gkt.in.nla",
            "acc.gkt.in.kvk",
            "acc.gkt.feedback.nla",
            "acc.gkt.feedback.kvk",
            "acc.bd.detectie.mkb",
            "acc.bd.detectie.go",
            "acc.bd.ht.kwaliteitsgesprek",
            "acc.bd.ht.registratie",
            "acc.gkt.quarantine",
            "acc.gkt.review",
            "acc.bd.terugkoppeling",
            "acc.gkt.deadletter",
            "acc.gkt.audit",
            "acc.gkt.checkpoints",
            "acc.gkt.witness",
            "acc.bd.ref.opdrachtgevers",
        ]
    )
    schemas = doc["components"]["schemas"]
    for name in (
        "Receipt",
        "AuditRecord",
        "QuarantineRecord",
        "QuarantineClosed",
        "ReviewVerdict",
        "AuditReview",
        "FeedbackRecord",
        "AuditFeedback",
        "SignalEvent",
        "Signal",
        "ReferenceRecord",
        "NlaReport10",
        "NlaReport11",
        "NlaReport20",
        "KvkReport10",
    ):
        assert name in schemas, name
    nla = schemas["NlaInboundEvent"]["properties"]["data"]
    assert sorted(ref["$ref"].rsplit("/", 1)[1] for ref in nla["anyOf"]) == [
        "NlaReport10",
        "NlaReport11",
        "NlaReport20",
    ]
