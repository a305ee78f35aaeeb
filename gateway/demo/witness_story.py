"""The demo's witness: it cosigns the checkpoints the gateway wrote at stop, and verify holds the log to them.

As a partner or the internal audit department runs ``gkt witness`` (docs/witness.md), with a key made for
this run; then the demo's verify reads ``gkt.checkpoints`` and ``gkt.witness`` with that witness's key, as
``gkt audit verify --witnesses`` does.
"""

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.verify import ChainVerifier, VerifyReport
from gateway.kafka.follower import read_all
from gateway.keyset import KeySet
from gateway.pipeline import Rules
from gateway.signing import Signer
from gateway.witness.checkpoint import gateway_verifiers
from gateway.witness.note import COSIGNATURE_V1, NoteSigner
from gateway.witness.round import Witness, read_claims, witness_round
from gateway.witness.state import WitnessState

WITNESS_NAME = "witness.demo.example"


@dataclass
class Witnessed:
    cosigned: dict[str, int] = field(default_factory=dict)  # chain: records cosigned
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.cosigned) and not self.refused


async def witness_and_verify(
    bootstrap: str, rules: Rules, signer: Signer, origin: str
) -> tuple[Witnessed, VerifyReport]:
    """One witness round over every chain, then the audit log verified against what it cosigned."""
    keys = KeySet.of(signer)
    gateway = gateway_verifiers(keys, origin)
    cosigner = NoteSigner(WITNESS_NAME, COSIGNATURE_V1, Ed25519PrivateKey.generate())
    with tempfile.TemporaryDirectory(prefix="gkt-demo-witness-") as state:
        witness = Witness(bootstrap, rules.topics, origin, gateway, cosigner, "*")
        report = await witness_round(witness, WitnessState(Path(state)))
    claims = await read_claims(bootstrap, rules.topics, origin, gateway, [cosigner.verifier])
    verifier = ChainVerifier(keys)
    claims.expect(verifier)
    for record in await read_all(bootstrap, rules.topics.audit):
        verifier.feed_bytes(record.value or b"", str(record.position))
    verified = claims.finish(verifier)
    refused = {str(chain): what for chain, what in report.refused.items()}
    witnessed = Witnessed({c: claims.cosigned[c].size for c in sorted(claims.cosigned)}, refused)
    return witnessed, verified
