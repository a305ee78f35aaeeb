"""Verifying and signing in the crypto helper process: the same decisions and bytes as in the gateway process.

Whatever the signature (good, forged, another key, not a JWS at all) and
whatever happens to the helper (killed between or within batches), each record
is decided, and each output signed, exactly as without it; only where the CPU
time goes differs.
"""

import json
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from bench.workload import mixed
from gateway.audit.index import AuditIndex
from gateway.inbound import SIGNATURE_HEADER, InboundRecord, Position
from gateway.pipeline import Rules
from gateway.processor import BatchResult, Processor
from gateway.signing import Signer
from gateway.types import ChainId

SIGNER = Signer.generate("gw-ahead")
AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def batch(count: int) -> list[InboundRecord]:
    millis = int(datetime.now(UTC).timestamp() * 1000)
    records = []
    for i, (value, signature) in enumerate(mixed(count)):
        headers: tuple[tuple[str, bytes | None], ...] = ((SIGNATURE_HEADER, signature),)
        if i % 11 == 5:
            headers = ((SIGNATURE_HEADER, b"not.a.jws"),)
        elif i % 11 == 7:
            headers = ((SIGNATURE_HEADER, signature[:-4] + b"AAAA"),)  # forged: one byte of the signature off
        elif i % 11 == 9:
            headers = ()
        records.append(InboundRecord(Position("gkt.in.nla", i % 3, i // 3), millis, value, headers))
    return records


def decide(rules: Rules, records: list[InboundRecord], helper: bool, kill_after: int | None = None) -> BatchResult:
    processor = Processor(rules, SIGNER, AuditIndex(), "urn:x", clock=lambda: AT, crypto_helper=helper)
    heads = {ChainId(f"gkt.in.nla/{p}"): processor.index.head(ChainId(f"gkt.in.nla/{p}")) for p in range(3)}
    try:
        if kill_after is None:
            return processor.process(records, heads)
        first = processor.process(records[:kill_after], heads)
        helper_process = processor.crypto._process
        assert helper_process is not None, "the helper runs"
        helper_process.kill()
        helper_process.wait()
        rest = processor.process(records[kill_after:], heads)
        return BatchResult(first.outputs + rest.outputs, first.audits + rest.audits, first.decisions + rest.decisions)
    finally:
        processor.crypto.close()


def summary(result: BatchResult) -> list[tuple[str, list[str], bytes]]:
    return [
        (d.outcome.value, [r.code.value for r in d.reasons], json.dumps(d.read.attributes).encode())
        for d in result.decisions
    ]


def test_the_helper_decides_as_the_gateway_process_does(rules: Rules) -> None:
    records = batch(300)
    inline, ahead = decide(rules, records, helper=False), decide(rules, records, helper=True)
    assert summary(ahead) == summary(inline)
    assert ahead.outputs == inline.outputs, "the same records, signatures included (Ed25519 is deterministic)"
    assert all(m.headers[0][0] == "gkt-signature" for m in ahead.outputs if m.topic != "gkt.deadletter")
    assert [m.value for m in ahead.audits] == [m.value for m in inline.audits]
    outcomes = {d.outcome.value for d in ahead.decisions}
    assert {"routed", "rejected"} <= outcomes
    assert sum("SIGNATURE_INVALID" in codes for _, codes, _ in summary(ahead)) >= 2 * 300 // 11


def test_a_helper_killed_between_batches_costs_nothing_but_time(rules: Rules) -> None:
    records = batch(120)
    inline = decide(rules, records, helper=False)
    with capture_logs() as logs:
        ahead = decide(rules, records, helper=True, kill_after=40)
    assert summary(ahead) == summary(inline)
    assert ahead.outputs == inline.outputs
    assert any(line["event"] == "crypto_helper_failed" for line in logs)


@pytest.mark.parametrize("count", [1, 5, 24, 25, 37, 61])
def test_batches_of_any_size_stay_in_step(rules: Rules, count: int) -> None:
    """Chunks of 4, then 16: a batch that ends anywhere in a chunk leaves the next batch's answers right.

    (Below SMALL_BATCH records a batch is decided without the helper: the sizes cross that line too.)"""
    records = batch(count * 2)
    processor = Processor(rules, SIGNER, AuditIndex(), "urn:x", clock=lambda: AT, crypto_helper=True)
    reference = Processor(rules, SIGNER, AuditIndex(), "urn:x", clock=lambda: AT)
    chains = [ChainId(f"gkt.in.nla/{p}") for p in range(3)]
    heads = {c: processor.index.head(c) for c in chains}
    reference_heads = {c: reference.index.head(c) for c in chains}
    try:
        for part in (records[:count], records[count:]):
            got, expected = processor.process(part, heads), reference.process(part, reference_heads)
            assert summary(got) == summary(expected)
            assert got.outputs == expected.outputs
    finally:
        processor.crypto.close()


def test_a_helper_that_dies_mid_batch_is_replaced_by_verifying_at_once(rules: Rules) -> None:
    from gateway.crypto_ahead import CryptoAhead
    from gateway.stages.authenticate import SignatureCheck, signature_check, verify_now

    records = batch(60)
    ahead = CryptoAhead(enabled=True, signer=SIGNER)
    try:
        running = ahead.start(records, rules)
        assert ahead._process is not None
        ahead._process.kill()
        ahead._process.wait()
        signer = running.signer
        with capture_logs() as logs:
            pending = [signer.submit(b"payload %d" % i) for i in range(40)]
            for record in records:
                agreement = rules.agreements.governing("nla", record.received_at)
                assert agreement is not None
                check = signature_check(record, agreement)
                if isinstance(check, SignatureCheck):
                    assert running.verify(check) == verify_now(check)
            running.finish()
        assert [line["event"] for line in logs] == ["crypto_helper_failed"]
        assert [p.result() for p in pending] == [SIGNER.sign(b"payload %d" % i) for i in range(40)]
    finally:
        ahead.close()
