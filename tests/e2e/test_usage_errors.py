"""Every command answers a usage error with one line on stderr and exit 2, never a traceback (spec/cli.md)."""

import sys

import pytest
import typer

from gateway.cli.app import app, main


def commands() -> list[list[str]]:
    """Every leaf command of ``gkt``, as its words."""
    found: list[list[str]] = []

    def walk(command: typer.core.TyperGroup | typer.core.TyperCommand, words: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            found.append(words)
            return
        for name, child in children.items():
            walk(child, [*words, name])

    walk(typer.main.get_command(app), [])
    return found


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *words: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["gkt", *words])
    with pytest.raises(SystemExit) as exit_:
        main()
    code = exit_.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def test_the_command_list_is_complete() -> None:
    assert {" ".join(words) for words in commands()} >= {
        "demo", "run", "broker", "topics create", "keys new", "keys show", "sign", "publish", "check",
        "contracts list", "contracts schema", "contracts check", "audit verify", "audit replay", "audit export",
        "asyncapi",
    }  # fmt: skip


@pytest.mark.parametrize("words", commands(), ids=" ".join)
def test_an_unknown_option_is_one_line_and_exit_2(
    words: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(monkeypatch, capsys, *words, "--nonsense")
    assert code == 2
    assert err.startswith("gkt: No such option: --nonsense"), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err


def test_an_unknown_command_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(monkeypatch, capsys, "chek")
    assert (code, err) == (2, "gkt: No such command 'chek'. Did you mean 'check'? (see 'gkt --help')\n")


@pytest.mark.parametrize(
    "words",
    [["check"], ["sign"], ["publish"], ["keys", "new"], ["contracts", "schema"]],
    ids=" ".join,
)
def test_a_missing_argument_is_one_line_and_exit_2(
    words: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(monkeypatch, capsys, *words)
    assert code == 2
    assert err.startswith("gkt: Missing"), err
    assert err.count("\n") == 1, err


@pytest.mark.parametrize(
    "received_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2025-01-01", "yesterday"]
)
def test_check_refuses_a_receipt_time_it_cannot_use(
    received_at: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    code, err = run(
        monkeypatch, capsys, "check", "/dev/null", "--partner", "nla", "--signature", "x", "--received-at", received_at
    )
    assert code == 2
    assert err.startswith(f"gkt: --received-at {received_at!r}: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("words", [["review", "release", "gkt.in.nla/0/1"], ["sign", "/etc/hostname"]])
def test_a_key_file_that_is_no_private_key_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], words: list[str]
) -> None:
    extra = ["--reviewer", "r-0001", "--grounds", "g", "--bootstrap", "127.0.0.1:1"] if words[0] == "review" else []
    code, err = run(monkeypatch, capsys, *words, "--key", "/etc/hostname", "--kid", "k-1", *extra)
    assert code == 2
    assert err.strip().splitlines() == [
        "gkt: --key /etc/hostname: not an Ed25519, P-256 or RSA private key in PEM form"
    ]


SIGNAL = "6f1c0a52-1d2e-5f3a-9b4c-7d8e9f0a1b2c"
TEAM_KEY = ["--key", "/nonexistent.pem", "--kid", "k", "--team", "mkb-oost"]


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (["feedback", "send", SIGNAL, "--status", "verdacht", *TEAM_KEY], "status must be one of geselecteerd"),
        (["feedback", "send", "not-a-signal", "--status", "geselecteerd", *TEAM_KEY], "signaalId must be a signal"),
        (["feedback", "send", SIGNAL, "--status", "geselecteerd", "--op", "gisteren", *TEAM_KEY], "op must be a date"),
        (["report", "--from", "2026-02-01", "--to", "2026-01-01"], "--from is after --to"),
        (["report", "--from", "2026-01-01", "--to", "2026-03-31", "--by", "week"], "--by must be month"),
        (["report", "--from", "2026-01-01", "--to", "2026-03-31", "--publish"], "--publish needs --partner"),
        (["report", "--from", "2026-01-01", "--to", "2026-03-31", "--json", "--csv"], "at most one of"),
    ],
)
def test_feedback_and_report_refuse_what_they_cannot_use_before_kafka_is_asked(
    words: list[str], said: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(monkeypatch, capsys, *words)
    assert code == 2, err
    assert said in err
    assert err.count("\n") == 1, err


def test_witness_usage_errors_name_what_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    def pem(private) -> str:  # type: ignore[no-untyped-def]
        path = tmp_path / f"{type(private).__name__}.pem"
        path.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return str(path)

    ed25519, p256 = pem(Ed25519PrivateKey.generate()), pem(ec.generate_private_key(ec.SECP256R1()))
    cases = [
        (["--key", str(tmp_path / "none.pem"), "--name", "w.example"], "no such file"),
        (["--key", p256, "--name", "w.example", "--chains", "*", "--state", str(tmp_path)], "Ed25519"),
        (["--key", ed25519, "--name", "w example", "--print-vkey"], "--name 'w example': a key name"),
        (["--key", ed25519, "--name", "w.example"], "give --chains and --state"),
    ]
    for words, said in cases:
        code, err = run(monkeypatch, capsys, "witness", *words)
        assert code == 2, (words, err)
        assert said in err, (words, err)
        assert "Traceback" not in err
    code, _ = run(monkeypatch, capsys, "witness", "--key", ed25519, "--name", "w.example", "--print-vkey")
    assert code == 0
