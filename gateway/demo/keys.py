"""Keys for ``gkt demo``, made fresh for each run: no private key ships inside the installed package.

The demo's partners, reviewers and teams sign with keys generated here, and the
demo runs on copies of the sample agreements, reviewers and teams files whose public
keys are replaced by the fresh ones (same kids, same test OINs, same rules).
The tests sign with fixed keys kept as test data (``tests/fixtures/demo-keys``,
matching the committed sample files), found through ``GKT_DEMO_KEYS``.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from contracts.keys import Algorithm
from gateway.selection.key import ClientKey

# Every kid the sample agreements and the demo reviewers and teams files list, with its alg.
DEMO_KIDS: dict[str, Algorithm] = {
    "nla-2025-01": "EdDSA",
    "nla-2024-01": "EdDSA",
    "kvk-2025-01": "ES256",
    "r-0001-2025": "EdDSA",
    "r-0002-2025": "EdDSA",
    "r-0003-2025": "EdDSA",
    "mkb-oost-2025": "EdDSA",
    "mkb-west-2025": "EdDSA",
}
_KID = re.compile(r'^kid = "([^"]+)"', re.M)
# The key's value in either TOML form: a one-line basic string with \n escapes, or a multi-line one.
_PUBLIC_KEY = re.compile(r'^public_key = (""".*?"""|"[^"\n]*")', re.S | re.M)


@dataclass(frozen=True, slots=True)
class DemoFiles:
    keys: Path  # <kid>.pem (private) and <kid>.pub.pem
    agreements: Path
    reviewers: Path
    teams: Path
    client_key: Path  # the gateway's client key (spec/selection.md), made for this run like the others


def make_demo_files(out: Path, agreements: Path, reviewers: Path, teams: Path) -> DemoFiles:
    """Fresh keys for every demo kid and a client key, and copies of ``agreements``, ``reviewers`` and ``teams``
    that list them."""
    keys = out / "keys"
    keys.mkdir(parents=True)
    public: dict[str, str] = {}
    for kid, alg in DEMO_KIDS.items():
        private = ed25519.Ed25519PrivateKey.generate() if alg == "EdDSA" else ec.generate_private_key(ec.SECP256R1())
        (keys / f"{kid}.pem").write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        public[kid] = (
            private.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )
        (keys / f"{kid}.pub.pem").write_text(public[kid])
    copies = DemoFiles(keys, out / "agreements", out / "reviewers", out / "teams", keys / "client.key")
    copies.client_key.write_text(ClientKey.generate().text())
    shutil.copytree(agreements, copies.agreements)
    shutil.copytree(reviewers, copies.reviewers)
    shutil.copytree(teams, copies.teams)
    for path in [p for folder in (copies.agreements, copies.reviewers, copies.teams) for p in folder.rglob("*.toml")]:
        path.write_text(with_public_keys(path.read_text(), public))
    return copies


def with_public_keys(text: str, public: dict[str, str]) -> str:
    """``text`` (an agreement or reviewers file) with the ``public_key`` after each ``kid = "…"`` line
    replaced by ``public[kid]``; keys of other kids stay as they are."""
    out, at = [], 0
    for match in _KID.finditer(text):
        kid = match.group(1)
        pem = _PUBLIC_KEY.search(text, match.end())
        if kid not in public or pem is None:
            continue
        out += [text[at : pem.start()], f'public_key = """\n{public[kid]}"""']
        at = pem.end()
    return "".join(out) + text[at:]
