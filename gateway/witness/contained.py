"""Verify with witnesses (spec/witness.md): every checkpoint cosigned by a known witness is in the log.

``gkt audit verify`` reads the checkpoints (``gkt.checkpoints``, ``gkt.witness``,
or their export) before the log, asks the chain verifier for the hash at each
checkpoint's size, and afterwards holds the log against them: a chain that
has fewer records than a cosigned checkpoint names, or is missing while one
names it, is *truncated*; a different record at that size is *tampered*.
Checkpoints only the gateway signed are held against the log too (the gateway
itself said so), but only a witness's cosignature makes a cut the operator
could also have made to the checkpoints detectable: verify says which it had.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.audit.verify import ChainVerifier, Problem, VerifyReport
from gateway.errors import UsageError
from gateway.keyset import GatewayKey
from gateway.witness.checkpoint import open_checkpoint
from gateway.witness.note import COSIGNATURE_V1, NoteError, Verifier


@dataclass(frozen=True, slots=True)
class Claim:
    """The largest size of a chain that a checkpoint names, and who vouches for it."""

    chain: str
    size: int
    hash: str
    witnesses: tuple[str, ...]  # the known witnesses that cosigned it; none: the gateway's word alone


@dataclass
class Claims:
    signed: dict[str, Claim] = field(default_factory=dict)  # per chain: the largest gateway-signed checkpoint
    cosigned: dict[str, Claim] = field(default_factory=dict)  # ... the largest a known witness cosigned
    unreadable: int = 0  # notes that are no checkpoint the gateway signed

    def add(
        self, data: bytes, origin: str, gateway: dict[bytes, tuple[Verifier, GatewayKey]], witnesses: list[Verifier]
    ) -> None:
        try:
            signed = open_checkpoint(data, origin, gateway)
            cosigners = tuple(sorted(signed.note.verified(witnesses)))
        except (NoteError, UnicodeDecodeError):
            self.unreadable += 1
            return
        checkpoint = signed.checkpoint
        claim = Claim(checkpoint.chain, checkpoint.size, checkpoint.hash, cosigners)
        _keep_largest(self.signed, claim)
        if cosigners:
            _keep_largest(self.cosigned, claim)

    def expect(self, verifier: ChainVerifier) -> None:
        """Ask the verifier for the hash at each claimed size as it reads the log."""
        for claim in (*self.signed.values(), *self.cosigned.values()):
            verifier.want(claim.chain, claim.size - 1)

    def finish(self, verifier: ChainVerifier) -> VerifyReport:
        """The verifier's report, once it has read the whole log, with each claim the log does not hold."""
        report = verifier.finish()
        report.problems += self.problems(verifier)
        return report

    def problems(self, verifier: ChainVerifier) -> list[Problem]:
        """Each claim the log does not hold; the cosigned one of a chain first, then the gateway's own."""
        found: list[Problem] = []
        for chain in sorted({*self.signed, *self.cosigned}):
            for claim in (self.cosigned.get(chain), self.signed.get(chain)):
                if claim is not None and (problem := _held(claim, verifier)) is not None:
                    found.append(problem)
                    break
        return found


def _keep_largest(kept: dict[str, Claim], claim: Claim) -> None:
    known = kept.get(claim.chain)
    if known is None or claim.size > known.size:
        kept[claim.chain] = claim
    elif claim.size == known.size and claim.witnesses:
        kept[claim.chain] = Claim(
            claim.chain, claim.size, claim.hash, tuple(sorted({*known.witnesses, *claim.witnesses}))
        )


def _held(claim: Claim, verifier: ChainVerifier) -> Problem | None:
    by = f"cosigned by {', '.join(claim.witnesses)}" if claim.witnesses else "signed by the gateway, not cosigned"
    state = verifier.report.chains.get(claim.chain)
    if state is None:
        return Problem(
            claim.chain, None, "truncated", f"the chain is missing; a checkpoint {by} names {claim.size} records"
        )
    if state.broken:
        return None  # already reported where it breaks
    seen = verifier.seen_hash(claim.chain, claim.size - 1)
    if seen is None:
        what = f"the chain has {state.last_seq + 1} records; a checkpoint {by} names {claim.size}"
        return Problem(claim.chain, state.last_seq + 1, "truncated", what)
    if seen != claim.hash:
        what = f"record {claim.size - 1} is not the one a checkpoint {by} names: the chain was rewritten up to it"
        return Problem(claim.chain, claim.size - 1, "tampered", what)
    return None


def load_witnesses(path: Path) -> list[Verifier]:
    """A verifier list: one witness key per line (``gkt witness --print-vkey``); blank lines and # comments pass."""
    if not path.is_file():
        raise UsageError(f"--witnesses {path}: no such file")
    verifiers = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            verifier = Verifier.parse(line)
        except NoteError as exc:
            raise UsageError(f"--witnesses {path}:{number}: {exc}") from exc
        if verifier.kind != COSIGNATURE_V1:
            raise UsageError(f"--witnesses {path}:{number}: a witness key is a cosignature key (type 0x04)")
        verifiers.append(verifier)
    if not verifiers:
        raise UsageError(f"--witnesses {path}: no witness key in it")
    return verifiers


def export_notes(path: Path) -> Iterable[bytes]:
    """The notes of a checkpoints export (``gkt audit export --checkpoints``): one JSON string per line."""
    if not path.is_file():
        raise UsageError(f"--checkpoints {path}: no such file")
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                note = json.loads(line)
            except ValueError:
                note = None
            if not isinstance(note, str):
                raise UsageError(f"--checkpoints {path}:{number}: not a JSON string (a note)")
            yield note.encode("utf-8", errors="surrogateescape")
