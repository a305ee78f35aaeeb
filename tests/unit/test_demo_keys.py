"""No private key ships inside the installed package; the demo makes its own and runs on copies that list them."""

from pathlib import Path

from contracts.agreement_book import DEFAULT_DIR as AGREEMENTS
from contracts.reviewer_book import DEFAULT_DIR as REVIEWERS
from contracts.reviewer_book import ReviewerBook
from contracts.team_book import DEFAULT_DIR as TEAMS
from contracts.team_book import TeamBook
from gateway.demo import samples as s
from gateway.demo.keys import DEMO_KIDS, make_demo_files
from gateway.signing import verify_detached
from tests.helpers import make_rules

PACKAGES = [Path(__file__).parents[2] / name for name in ("gateway", "contracts", "routing", "validators")]


def test_no_private_key_in_any_package() -> None:
    found = [
        path
        for package in PACKAGES
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix in {".pem", ".key", ".toml", ".json", ".jsonl", ".py"}
        and b"PRIVATE KEY-----" in path.read_bytes()
    ]
    assert found == []


def test_the_demo_signs_with_fresh_keys_its_copies_list(tmp_path: Path) -> None:
    files = make_demo_files(tmp_path, AGREEMENTS, REVIEWERS, TEAMS)
    committed = make_rules()
    with s.keys_in(files.keys):
        value = b'{"demo": true}'
        for kid, alg in DEMO_KIDS.items():
            token = s.sign(value, kid).decode()
            fresh = (files.keys / f"{kid}.pub.pem").read_text()
            assert fresh in "".join(
                p.read_text()
                for folder in (files.agreements, files.reviewers, files.teams)
                for p in folder.rglob("*.toml")
            )
            if kid.startswith("r-"):
                key = next(r for v in ReviewerBook.load(files.reviewers) for r in v.reviewers if r.kid == kid)
                assert verify_detached(token, value, key.key, alg)
            elif kid.startswith("mkb-"):
                team = next(t for v in TeamBook.load(files.teams) for t in v.teams if t.kid == kid)
                assert verify_detached(token, value, team.key, alg)
            else:
                listed = [k for a in committed.agreements for k in a.keys if k.kid == kid]
                assert listed, kid
                assert not verify_detached(token, value, listed[0].key, alg), "the committed files list other keys"
    assert s.keys_dir() != files.keys, "the tests' keys again once the demo is done"
