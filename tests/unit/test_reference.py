"""Reference data: JSON Lines offline, topic records online (last one wins, null deletes)."""

import hashlib
import json
import tracemalloc
from pathlib import Path

import pytest

from gateway.demo import samples as s
from routing.errors import RoutingDataError
from routing.reference import ReferenceTable, checked_records


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


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b'{"kvkNummer": "1"}', "kvkNummer: not a valid KVK-nummer (8 digits)"),
        (b"[1, 2]", "not one JSON object"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"kvkNummer": "12345678", "segment": "mkb", "horizontaalToezichtLoonheffingen": "ja"}',
         "horizontaalToezichtLoonheffingen: Input should be a valid boolean"),
    ],
)  # fmt: skip
def test_every_refused_line_says_why_without_its_value(tmp_path: Path, line: bytes, why: str) -> None:
    path = tmp_path / "ref.jsonl"
    path.write_bytes(record() + b"\n" + line + b"\n")
    with pytest.raises(RoutingDataError) as refused:
        ReferenceTable.from_jsonl(path)
    assert str(refused.value) == f"{path}:2: not a valid reference record: {why}"


def test_one_client_on_two_lines_with_other_content_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "ref.jsonl"
    other = json.dumps({**json.loads(record()), "segment": "go"}).encode()
    path.write_bytes(b"\n".join([record(), record(), b"", other]) + b"\n")  # an exact repeat is fine
    with pytest.raises(RoutingDataError) as refused:
        ReferenceTable.from_jsonl(path)
    assert str(refused.value).startswith(f"{path}:4: kvkNummer is on line 1 too, with other content")


def test_checking_a_file_streams_it(tmp_path: Path) -> None:
    """gkt reference load checks a file of any size in bounded memory: two integers a client, not the file."""
    path = tmp_path / "ref.jsonl"
    clients = 40_000
    with path.open("wb") as handle:
        for n in range(clients):
            kvk = f"{10_000_000 + n}"
            handle.write(
                b'{"kvkNummer": "%s", "segment": "mkb", "horizontaalToezichtLoonheffingen": false}\n' % kvk.encode()
            )
    tracemalloc.start()
    try:
        assert sum(1 for _ in checked_records(path)) == clients
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The file is 3.3 MB, its records held as a table ~40 MB: the check keeps ~170 bytes a client.
    assert peak < 400 * clients, f"peak {peak / 1e6:.1f} MB for {clients} clients"
