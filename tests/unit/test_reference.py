"""Reference data: JSON Lines offline, topic records online (last one wins, null deletes)."""

import hashlib
import json
from pathlib import Path

import pytest

from gateway.demo import samples as s
from routing.errors import RoutingDataError
from routing.reference import ReferenceTable


def record(kvk: str = "12345678", segment: str = "mkb") -> bytes:
    return json.dumps(
        {
            "kvkNummer": kvk,
            "segment": segment,
            "horizontaalToezichtLoonheffingen": False,
            "aanwijzingDatum": None,
            "modelovereenkomstTot": None,
        }
    ).encode()


def test_sample_file_loads() -> None:
    table = ReferenceTable.from_jsonl(s.REFERENCE_FILE)
    assert len(table) == 6
    client = table.get("23456789")
    assert client is not None
    assert client.segment == "go"


def test_topic_updates_last_one_wins_and_null_deletes() -> None:
    table = ReferenceTable()
    assert table.apply(b"12345678", record())
    assert table.apply(b"12345678", record(segment="go"))
    client = table.get("12345678")
    assert client is not None
    assert client.segment == "go"
    assert table.apply(b"12345678", None)
    assert table.get("12345678") is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (None, record()),
        (b"12345678", b"{"),
        (b"87654321", record()),
        (b"12345678", record(segment="zzp")),
    ],
)
def test_bad_topic_records_are_skipped(key: bytes | None, value: bytes) -> None:
    table = ReferenceTable()
    assert not table.apply(key, value)
    assert len(table) == 0


def test_bad_file_line_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "ref.jsonl"
    path.write_bytes(record() + b"\n\n" + b'{"kvkNummer": "1"}\n')
    with pytest.raises(RoutingDataError, match=r"ref.jsonl:3: not a valid reference record"):
        ReferenceTable.from_jsonl(path)


def test_ht_level_is_one_of_three_or_null_and_leaves_old_digests_alone() -> None:
    table = ReferenceTable()
    with_level = {**json.loads(record()), "horizontaalToezichtLoonheffingen": True, "htNiveau": "juistheid"}
    assert table.apply(b"12345678", json.dumps(with_level).encode())
    client = table.get("12345678")
    assert client is not None
    assert client.htNiveau == "juistheid"
    assert not table.apply(b"12345678", json.dumps({**with_level, "htNiveau": "hoog"}).encode())
    # A record without htNiveau keeps the digest decisions recorded before the field existed.
    assert table.apply(b"12345678", record())
    old = ReferenceTable()
    assert old.apply(b"12345678", json.dumps({**json.loads(record()), "htNiveau": None}).encode())
    before = (
        "sha256:"
        + hashlib.sha256(
            b'{"aanwijzingDatum":null,"horizontaalToezichtLoonheffingen":false,"kvkNummer":"12345678",'
            b'"modelovereenkomstTot":null,"segment":"mkb"}'
        ).hexdigest()
    )
    assert table.get("12345678").digest == old.get("12345678").digest == before  # type: ignore[union-attr]
