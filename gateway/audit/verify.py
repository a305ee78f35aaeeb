"""Checks audit chains: seq, links, hashes, signatures, increasing offsets (spec/audit.md).

Tells *tampered* (a hash or link does not match) apart from *unverifiable*
(signed with a key the verifier was not given), so that rotating keys never
makes old records look forged.
"""

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import orjson

from contracts.jsonio import strict_loads
from contracts.masking import masked
from gateway.audit.in_place import hex_without, read_in_place
from gateway.audit.record import GENESIS, record_hash
from gateway.keyset import KeySet
from gateway.signing import SignatureFormatError, read_protected_header, verify_detached
from gateway.types import CHAIN_FORM


@dataclass(frozen=True, slots=True)
class Problem:
    chain: str
    seq: int | None
    # "tampered", "unverifiable" (key not given), "missing" (an inbound record without decision), "truncated"
    # (shorter than a checkpoint names: gateway.witness.contained) or "empty" (no record at all)
    kind: str
    what: str


def plain(problem: Problem) -> str:
    """The problem in words for an auditor who does not read hashes: what happened to which record."""
    record = f"record {problem.seq} of chain {problem.chain}" if problem.seq is not None else f"chain {problem.chain}"
    what = problem.what
    if problem.kind == "missing":
        return f"{problem.chain}: inbound records that were received have no decision in the audit log ({what})"
    if problem.kind == "truncated":
        return f"chain {problem.chain} is shorter than a checkpoint says it was: its last records were removed ({what})"
    if problem.kind == "empty":
        return "there is no audit record at all: an empty log proves nothing"
    if problem.kind == "unverifiable":
        if "not covered by a signature" in what:
            return f"the last records of chain {problem.chain} are not signed yet: nothing vouches for them ({what})"
        return f"{record} was signed with a key you were not given: give the gateway's keys with --keys ({what})"
    if "hash does not match" in what or "canonicalised" in what:
        return f"{record} was changed after it was written"
    if "prev does not equal" in what:
        return f"{record} does not follow the record before it: a record before it was changed, removed or inserted"
    if what.startswith("seq "):
        return f"records of chain {problem.chain} are missing, repeated or out of order at {record} ({what})"
    if "sig" in what or "signed with key" in what:
        return f"{record} carries a signature the gateway did not make with a valid key ({what})"
    if "I-JSON" in what:
        return f"{problem.chain}: a line is not an audit record, or repeats a member name: the log was changed"
    return f"{record}: {what}"


@dataclass
class ChainState:
    records: int = 0
    last_seq: int = -1
    last_hash: str = GENESIS
    last_offset: int = -1
    broken: bool = False
    unsigned_since: int | None = None  # first seq after the last signed record; None when the tail is signed
    verified: int = 0  # records a verified signature covers
    pending: dict[str, int] = field(default_factory=dict)  # outcomes of records no signature covers yet
    outcomes: dict[str, int] = field(default_factory=dict)  # outcomes of the records a signature covers

    def vouched(self, report: "VerifyReport") -> None:
        """A verified signature vouches for every record still pending: only now do they count."""
        self.unsigned_since = None
        for name, count in self.pending.items():
            report.outcomes[name] = report.outcomes.get(name, 0) + count
            self.outcomes[name] = self.outcomes.get(name, 0) + count
            self.verified += count
        self.pending.clear()


@dataclass
class VerifyReport:
    chains: dict[str, ChainState] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)  # over verified records only: a forged outcome never counts
    problems: list[Problem] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(c.records for c in self.chains.values())

    @property
    def verified(self) -> int:
        return sum(c.verified for c in self.chains.values())

    def as_json(self) -> dict[str, Any]:
        """The report for scripts (``gkt audit verify --json``)."""
        return {
            "ok": self.ok,
            "chains": {
                name: {"records": state.records, "verified": state.verified, "last_verified_seq": state.last_seq}
                for name, state in sorted(self.chains.items())
            },
            "records": self.records,
            "verified": self.verified,
            "outcomes": dict(sorted(self.outcomes.items())),
            "problems": [
                {"chain": p.chain, "seq": p.seq, "kind": p.kind, "what": p.what, "plain": plain(p)}
                for p in self.problems
            ],
        }

    @property
    def ok(self) -> bool:
        return not self.problems


def sealed_digest(raw: bytes, record: Mapping[str, Any]) -> str | None:
    """``record``'s hash, when ``raw`` is exactly its hashed body plus its ``hash`` and ``sig`` members.

    The gateway writes every record as RFC 8785 canonical JSON (gateway/audit/record.Sealed),
    so taking those two members out of the bytes leaves the very bytes it hashed. If their
    SHA-256 is the recorded hash, the bytes are the gateway's: no re-encoding needed, and
    no member name can repeat (the body had none; each of the two occurs once). Anything
    else (an older layout, a reformatted export, tampering) returns None and is checked
    the slow, exact way.
    """
    digest, sig = record.get("hash"), record.get("sig")
    if type(digest) is not str or not (sig is None or type(sig) is str):
        return None
    hash_member = b',"hash":' + _json_string(digest)
    sig_member = b',"sig":' + (b"null" if sig is None else _json_string(sig))
    at_hash, at_sig = _once(raw, hash_member), _once(raw, sig_member)
    if at_hash is None or at_sig is None:
        return None
    first, second = sorted([(at_hash, at_hash + len(hash_member)), (at_sig, at_sig + len(sig_member))])
    if first[1] > second[0]:
        return None
    return digest if "sha256:" + hex_without(raw, 0, len(raw), first, second) == digest else None


def _once(raw: bytes, member: bytes) -> int | None:
    """Where ``member`` occurs in ``raw``, if it occurs exactly once."""
    at = raw.find(member)
    if at < 0 or raw.find(member, at + 1) >= 0:
        return None
    return at


def _json_string(text: str) -> bytes:
    """``text`` as JSON writes it: digests and JWS need no escape, anything else is encoded exactly."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return b'"' + text.encode("ascii") + b'"'
    return json.dumps(text, ensure_ascii=False).encode("utf-8")


Issue = tuple[str, str]  # (kind, what): "tampered" or "unverifiable", and what is wrong


class Checked(NamedTuple):
    """One record after the checks that need nothing but the record itself (its hash and signature), with
    what the checks in chain order need. Made in any process; linked in log order (``ChainVerifier.take``)."""

    chain: str
    seq: int | None
    prev: object
    hash: object
    offset: int | None
    outcome: str
    signed: bool
    content: Issue | None  # the hash: changed after it was written, or cannot be canonicalised
    signature: Issue | None


def check_bytes(raw: bytes, keys: KeySet) -> Checked | None:
    """``raw`` as written (an export line, a Kafka value) checked on its own; None when it is no record at all.

    The hash is checked straight from the bytes when it can be (``sealed_digest``); otherwise
    the record is read strictly: with a repeated member name, a reader that keeps the last
    would see another record than the one hashed (an inserted "outcome" before the real one).
    A record in the gateway's own layout is not parsed at all: its fields are read in place
    (``gateway.audit.in_place``, which says why that is as strict).
    """
    checked = check_in_place(raw, keys)
    return checked if checked is not None else check_parsed(raw, keys)


def check_parsed(raw: bytes, keys: KeySet) -> Checked | None:
    """``raw`` parsed, then checked (``check_bytes`` for a record not in the gateway's layout)."""
    try:
        record = orjson.loads(raw)  # fast and lenient (a repeated name keeps the last): only kept if it hashes right
    except orjson.JSONDecodeError:  # a ValueError: invalid UTF-8, integers beyond 64 bits, ...
        record = None
    digest = sealed_digest(raw, record) if isinstance(record, dict) else None
    if digest is None:
        try:
            record = strict_loads(raw)
        except ValueError:
            return None
        if not isinstance(record, dict):
            return None
    return check_record(record, keys, digest)


CHAIN_MAX = 256  # the longest chain id: a topic name of 249 characters, "/", a partition of six digits


def shown_chain(text: str) -> str:
    """A record's chain as reports name it: a chain id (``<topic>/<partition>``) as it is. Anything else is the
    word of whoever wrote the record (a forged record's chain may be a name or a BSN): masked, and in ``<>``
    so that it is never taken for a chain id. Only names as short as a chain id are remembered: a forged
    export could otherwise keep a thousand chain names of a megabyte each."""
    return _shown(text) if len(text) <= CHAIN_MAX else _masked_chain(text)


@functools.lru_cache(maxsize=1024)  # a log has a few chains, each met once a record
def _shown(text: str) -> str:
    return text if CHAIN_FORM.fullmatch(text) else _masked_chain(text)


def _masked_chain(text: str) -> str:
    return f"<{masked(text, 64)}>"


def check_in_place(raw: bytes, keys: KeySet, start: int = 0, end: int | None = None) -> Checked | None:
    """``raw[start:end]`` checked on its own when it is in the gateway's layout (``read_in_place``); None when
    it is not, and must be parsed."""
    fields = read_in_place(raw, start, end)
    if fields is None:
        return None
    chain, seq, prev, digest, offset, outcome, sig, decided_at = fields
    signature = None if sig is None else _signature(sig, digest, str(decided_at), keys)
    return Checked._make((shown_chain(chain), seq, prev, digest, offset, outcome, sig is not None, None, signature))


def check_record(record: Mapping[str, Any], keys: KeySet, digest: str | None = None) -> Checked:
    """A parsed record checked on its own; ``digest``: its hash, already checked against its bytes."""
    content: Issue | None = None
    signature: Issue | None = None
    try:
        recomputed = digest if digest is not None else record_hash(record)
    except (TypeError, ValueError):
        content, recomputed = ("tampered", "record cannot be canonicalised"), ""
    if content is None and record.get("hash") != recomputed:
        content = ("tampered", "hash does not match the record's content")
    sig = record.get("sig")
    if content is None and sig is not None:
        # A signature is checked only over a hash that matches; a later signed record vouches for the others.
        if isinstance(sig, str):
            signature = _signature(sig, recomputed, str(record.get("decided_at")), keys)
        else:
            signature = ("tampered", "sig is not a detached JWS")
    inbound = record.get("inbound")
    offset = inbound.get("offset") if isinstance(inbound, dict) else None
    return Checked(  # positionally: this runs once per record
        shown_chain(str(record.get("chain"))),
        _seq(record),
        record.get("prev"),
        record.get("hash"),
        offset if type(offset) is int else None,
        str(record.get("outcome")),
        sig is not None,
        content,
        signature,
    )


class ChainVerifier:
    """Checks records one at a time, in log order, so a long log is never held in memory."""

    keeps_offsets = True  # the inbound offsets decided, for ``missing`` (from Kafka, with the inbound topics)

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys
        self.report = VerifyReport()
        self.decided: dict[str, set[int]] = {}
        self._wanted: dict[str, set[int]] = {}  # seqs whose hash a checkpoint names (gateway.witness.contained)
        self._seen: dict[tuple[str, int], str] = {}

    def want(self, chain: str, seq: int) -> None:
        """Keep the hash of ``chain``'s record ``seq`` when it verifies in order (``seen_hash``)."""
        self._wanted.setdefault(chain, set()).add(seq)

    @property
    def wanted(self) -> dict[str, set[int]]:
        return self._wanted

    def seen_hash(self, chain: str, seq: int) -> str | None:
        return self._seen.get((chain, seq))

    def feed_bytes(self, raw: bytes, where: str) -> None:
        """One record as written (an export line, a Kafka value)."""
        checked = check_bytes(raw, self.keys)
        if checked is None:
            self.unparsable(where)
        else:
            self.take(checked)

    def feed_lines(self, block: bytes) -> tuple[int, list[int]]:
        """Every line of ``block``, a run of whole lines of an export: how many lines it has, and which of them
        (counted from 1) are no record at all, for the caller to name (``unparsable``) where it knows the line's
        number in the file. Lines in the gateway's layout are read where they lie in the block, not copied."""
        keys, take = self.keys, self.take
        start, number, size, unreadable = 0, 1, len(block), []
        while start < size:
            end = block.find(b"\n", start)
            end = size if end < 0 else end
            stop = end - 1 if end > start and block[end - 1] == 0x0D else end  # a CR LF line end
            checked = check_in_place(block, keys, start, stop)
            if checked is None and block[start:stop].strip():
                checked = check_parsed(block[start:stop], keys)
                if checked is None:
                    unreadable.append(number)
            if checked is not None:
                take(checked)
            start, number = end + 1, number + 1
        return number - 1, unreadable

    def feed(self, record: Mapping[str, Any]) -> None:
        """One parsed record (tests, the bench's second look): its hash recomputed."""
        self.take(check_record(record, self.keys))

    def take(self, checked: Checked) -> None:
        """The checks in chain order (seq, prev, increasing offsets), and the counting, for one record."""
        report = self.report
        chain = checked.chain
        state = report.chains.get(chain)
        if state is None:  # not setdefault: that would build a ChainState and a set for every record
            state = self._begin(checked)
        state.records += 1
        if self.keeps_offsets and checked.offset is not None:
            self.decided[chain].add(checked.offset)
        if state.broken:
            return
        seq, offset = checked.seq, checked.offset
        problem = _in_order(checked, state)
        if problem is not None:
            self._break(state, chain, seq, problem)
            return
        assert seq is not None, "_in_order refused a record without seq"
        assert offset is not None, "_in_order refused a record without offset"
        state.last_seq, state.last_hash, state.last_offset = seq, str(checked.hash), offset
        if self._wanted and seq in self._wanted.get(chain, ()):
            self._seen[chain, seq] = state.last_hash
        state.pending[checked.outcome] = state.pending.get(checked.outcome, 0) + 1
        if not checked.signed:
            state.unsigned_since = state.last_seq if state.unsigned_since is None else state.unsigned_since
            return
        state.vouched(report)  # for this record and, through the prev links, every earlier one

    def _break(self, state: ChainState, chain: str, seq: int | None, problem: Issue) -> None:
        """The chain is broken at ``seq``: named once, and nothing pending or after it counts."""
        state.broken = True
        state.pending.clear()
        self.report.problems.append(Problem(chain, seq, *problem))

    def _begin(self, checked: Checked) -> ChainState:
        """A chain met for the first time, at ``checked``: it starts from nothing."""
        self.decided[checked.chain] = set()
        state = self.report.chains[checked.chain] = ChainState()
        return state

    def join(self, part: "SliceChain") -> None:
        """Go on with a chain from a slice a worker checked (``SliceVerifier``), as if each record were taken here.

        Only the slice's first record is checked against where the chain stood (``_in_order``,
        as ``take`` does); the rest the worker checked in order already. A signature in the
        slice vouches for what was pending before it too; a break in it loses that, as here.
        """
        report, chain, local = self.report, part.first.chain, part.state
        state = report.chains.get(chain)
        if state is None:
            state = report.chains[chain] = ChainState()
            self.decided[chain] = set()
        state.records += local.records
        if state.broken:
            return
        problem = _in_order(part.first, state)
        if problem is not None:
            self._break(state, chain, part.first.seq, problem)
            return
        if part.signed:
            state.vouched(report)
        elif local.broken:
            state.pending.clear()
        pending = dict(state.pending)
        for name, count in local.pending.items():
            pending[name] = pending.get(name, 0) + count
        for name, count in local.outcomes.items():
            report.outcomes[name] = report.outcomes.get(name, 0) + count
            state.outcomes[name] = state.outcomes.get(name, 0) + count
        carried = state.unsigned_since is not None and not part.signed  # unsigned records before the slice
        unsigned_since = state.unsigned_since if carried else local.unsigned_since
        state.last_seq, state.last_hash, state.last_offset = local.last_seq, local.last_hash, local.last_offset
        state.broken, state.unsigned_since, state.pending = local.broken, unsigned_since, pending
        state.verified += local.verified
        report.problems += part.problems
        self._seen.update({(chain, seq): digest for seq, digest in part.seen.items()})

    def finish(self) -> VerifyReport:
        """The report, once every record was fed: a chain whose last records no signature covers is unverifiable.

        Signatures sit at checkpoints (spec/audit.md): a signed record vouches for
        every earlier one through the ``prev`` links, but records after the last
        signature are vouched for by nothing yet.
        """
        if not self.report.chains and not self.report.problems:
            self.report.problems.append(Problem("(the log)", None, "empty", "no audit record: nothing was verified"))
        for chain, state in self.report.chains.items():
            if state.unsigned_since is not None and not state.broken:
                first, last = state.unsigned_since, state.last_seq
                what = f"seq {first} to {last} are not covered by a signature yet (no signed record after them)"
                self.report.problems.append(Problem(chain, first, "unverifiable", what))
                state.broken = True
        return self.report

    def unparsable(self, where: str) -> None:
        """A line or record that is not JSON at all: the log was changed."""
        self.report.problems.append(
            Problem(where, None, "tampered", "not an I-JSON audit record (unreadable, or a member name repeats)")
        )

    def missing(self, chain: str, present: Iterable[int]) -> None:
        """Inbound offsets still on the inbound topic must each have their decision."""
        undecided = sorted(set(present) - self.decided.get(chain, set()))
        if undecided:
            more = f" and {len(undecided) - 1} more" if len(undecided) > 1 else ""
            self.report.problems.append(
                Problem(chain, None, "missing", f"inbound offset {undecided[0]}{more} has no decision")
            )


@dataclass
class SliceChain:
    """One chain's records in one slice of an export, checked in order by a worker (``SliceVerifier``): what the
    main process needs to go on from where the chain stood before the slice (``ChainVerifier.join``)."""

    first: Checked  # the chain's first record in the slice
    state: ChainState  # after the slice, as if the first record followed what came before
    signed: bool  # a signature in the slice verified before anything broke: what was pending before counts
    problems: list[Problem]
    seen: dict[int, str]  # hashes at the seqs a checkpoint names


class SliceVerifier(ChainVerifier):
    """``ChainVerifier`` over one slice of an export, each chain taken up at its first record in the slice.

    A worker of ``gkt audit verify --file`` runs it over consecutive lines; the main process joins the
    slices in file order, so its report is the one-process report and it never handles single records.
    An export has no inbound topics to compare with: the offsets decided are not kept.
    """

    keeps_offsets = False

    def __init__(self, keys: KeySet, wanted: dict[str, set[int]]) -> None:
        super().__init__(keys)
        self._wanted = wanted
        self._first: dict[str, Checked] = {}

    def _begin(self, checked: Checked) -> ChainState:
        """A chain met for the first time in the slice: as if the record before ``checked`` were the one it
        names (the main process checks that it is, ``join``)."""
        self._first[checked.chain] = checked
        seq = checked.seq if checked.seq is not None else 0
        offset = checked.offset if checked.offset is not None else 0
        state = ChainState(last_seq=seq - 1, last_hash=str(checked.prev), last_offset=offset - 1)
        self.report.chains[checked.chain] = state
        return state

    def parts(self) -> list[SliceChain]:
        """Each chain of the slice, in the order it first appeared."""
        problems: dict[str, list[Problem]] = {}
        for problem in self.report.problems:
            problems.setdefault(problem.chain, []).append(problem)
        return [
            SliceChain(
                first,
                self.report.chains[chain],
                self.report.chains[chain].verified > 0,  # only a verified signature vouches, and nothing after a break
                problems.get(chain, []),
                {seq: digest for (c, seq), digest in self._seen.items() if c == chain},
            )
            for chain, first in self._first.items()
        ]


def verify(records: Iterable[Mapping[str, Any]], keys: KeySet) -> VerifyReport:
    """Verify records in log order; names the first bad record of each broken chain."""
    verifier = ChainVerifier(keys)
    for record in records:
        verifier.feed(record)
    return verifier.finish()


def _seq(record: Mapping[str, Any]) -> int | None:
    seq = record.get("seq")
    return seq if isinstance(seq, int) else None


def _in_order(checked: Checked, state: ChainState) -> Issue | None:
    """The first thing wrong with the record, in the order a reader meets it: seq, prev, hash, offset, sig."""
    seq = checked.seq
    if seq is None:
        return "tampered", "seq is missing"
    if seq != state.last_seq + 1:
        return "tampered", f"seq {seq} follows {state.last_seq} (expected {state.last_seq + 1})"
    if checked.prev != state.last_hash:
        return "tampered", "prev does not equal the hash of the previous record"
    if checked.content is not None:
        return checked.content
    if checked.offset is None:
        return "tampered", "inbound offset is missing"
    if checked.offset <= state.last_offset:
        return "tampered", f"inbound offset {checked.offset} does not increase (after {state.last_offset})"
    return checked.signature


def _signature(sig: str, digest: str, decided_at: str, keys: KeySet) -> tuple[str, str] | None:
    try:
        header = read_protected_header(sig)
    except SignatureFormatError:
        return "tampered", "sig is not a detached JWS"
    key = keys.get(header.kid)
    if key is None:
        return "unverifiable", f"signed with key {header.kid!r}, which the verifier was not given"
    if not verify_detached(sig, digest.encode("ascii"), key.key, header.alg):
        return "tampered", "sig does not verify"
    try:
        moment = datetime.fromisoformat(decided_at)
    except ValueError:
        return "tampered", "decided_at is not a timestamp"
    if not key.valid_at(moment):
        return "tampered", f"signed with key {header.kid!r}, which was not valid at decided_at"
    return None
