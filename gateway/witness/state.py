"""A witness's memory in its state folder: what it cosigned, how far it read, and the evidence it keeps.

The folder is the witness's own: a later rewrite of the log cannot change what
it holds. Per chain, ``chains/<chain>.json`` holds the last cosigned checkpoint
(the gateway's note with the witness's cosignature) and where the head record
sat in the audit log; ``read.json`` how far ``gkt.checkpoints`` was read; a
refused chain has ``evidence/<chain>/`` with both checkpoints and one line
saying what was seen, and is never cosigned again. Every file is written
whole to a temporary name and then renamed, so a crash leaves the old state.
"""

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote

from gateway.errors import UsageError
from gateway.types import ChainId
from gateway.witness.judge import Refusal, Seen


@dataclass(frozen=True, slots=True)
class Cosigned:
    seen: Seen
    note: str  # the checkpoint as cosigned: the gateway's note with the witness's line added
    audit_partition: int | None  # where the head record sat in gkt.audit: the next read starts there
    audit_offset: int | None


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def _name(chain: str) -> str:
    return quote(chain, safe="")


class WitnessState:
    """The state folder ``root``; made when missing."""

    def __init__(self, root: Path) -> None:
        if root.exists() and not root.is_dir():
            raise UsageError(f"--state {root}: not a folder")
        self.root = root
        (root / "chains").mkdir(parents=True, exist_ok=True)

    def cosigned(self, chain: ChainId) -> Cosigned | None:
        path = self.root / "chains" / f"{_name(chain)}.json"
        if not path.is_file():
            return None
        data = json.loads(path.read_bytes())
        moment = datetime.fromisoformat(data["time"]) if data.get("time") else None
        seen = Seen(data["size"], data["hash"], moment)
        return Cosigned(seen, data["note"], data["audit_partition"], data["audit_offset"])

    def chains(self) -> list[ChainId]:
        return sorted(ChainId(unquote(p.name[: -len(".json")])) for p in (self.root / "chains").glob("*.json"))

    def cosign(self, chain: ChainId, cosigned: Cosigned) -> None:
        data = {
            "chain": chain,
            "size": cosigned.seen.size,
            "hash": cosigned.seen.hash,
            "time": cosigned.seen.time.isoformat() if cosigned.seen.time else None,
            "note": cosigned.note,
            "audit_partition": cosigned.audit_partition,
            "audit_offset": cosigned.audit_offset,
        }
        _write(self.root / "chains" / f"{_name(chain)}.json", json.dumps(data, indent=2).encode())

    def read_to(self) -> dict[int, tuple[int, str]]:
        """Per partition of ``gkt.checkpoints``: the next offset to read, and the SHA-256 of the record before it."""
        path = self.root / "read.json"
        if not path.is_file():
            return {}
        return {int(p): (int(o["next"]), str(o["last"])) for p, o in json.loads(path.read_bytes()).items()}

    def read(self, positions: dict[int, tuple[int, str]]) -> None:
        data = {str(p): {"next": n, "last": last} for p, (n, last) in sorted(positions.items())}
        _write(self.root / "read.json", json.dumps(data).encode())

    def refused(self, chain: ChainId) -> str | None:
        """What the witness saw when it refused ``chain``; None when it never did."""
        path = self.root / "evidence" / _name(chain) / "what.txt"
        return path.read_text("utf-8").strip() if path.is_file() else None

    def refuse(self, chain: ChainId, refusal: Refusal, cosigned: Cosigned | None) -> Path:
        """Keep the evidence: the checkpoint cosigned last, the one refused, and what was seen."""
        folder = self.root / "evidence" / _name(chain)
        _write(folder / "refused.note", refusal.checkpoint.note.encoded())
        if cosigned is not None:
            _write(folder / "cosigned.note", cosigned.note.encode("utf-8"))
        _write(folder / "what.txt", (refusal.what + "\n").encode("utf-8"))  # last: its presence marks the refusal
        return folder
