"""`make bench` keeps working: run it on a few hundred records. Nothing here is timed."""

import asyncio
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.workload import expected_outcomes
from gateway.kafka.embedded import EmbeddedBroker

pytestmark = pytest.mark.kafka


def _bench(out: Path, *options: str) -> tuple[str, dict[str, Any]]:
    """``python -m bench`` with ``options``, latency runs of a second, two rounds at the highest rate:
    its standard output and its results (strict JSON: a NaN would be no figure)."""
    stdout = _module("bench", *options, "--latency-seconds", "1", "--latency-rounds", "2", "--out", str(out))
    return stdout, json.loads(out.read_text(), parse_constant=_no_constants)


def _module(name: str, *options: str) -> str:
    """The standard output of ``python -m name options`` run from the checkout, which must exit 0."""
    result = subprocess.run(
        [sys.executable, "-m", name, *options],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=Path(__file__).parents[1],
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _no_constants(name: str) -> None:
    raise ValueError(f"results.json holds {name}, which is not JSON")


def test_the_bench_runs_and_reports_every_figure(tmp_path: Path) -> None:
    stdout, results = _bench(tmp_path / "results.json", "--reports", "300", "--rates", "50,100")
    assert results["workload"]["outcomes"] == expected_outcomes(300)
    for figure in ("passthrough_per_s", "gateway_per_s", "throughput_ratio", "verify_per_s", "peak_rss_mb"):
        assert results[figure] > 0, figure
    # Every rate runs its rounds, pooled: every report of both rounds has its signal.
    assert [(lat["rate_per_s"], lat["rounds"], lat["reports"], lat["received"]) for lat in results["latency"]] == [
        (50, 2, 100, 100),
        (100, 2, 200, 200),
    ]
    top = results["latency"][1]
    assert len(top["round_p99_ms"]) == len(top["passthrough_round_p99_ms"]) == 2
    # Partner send to the signal's build: a part of the whole, never more.
    assert 0 < top["to_output_p50_ms"] <= top["p50_ms"]
    assert top["to_output_p99_ms"] <= top["p99_ms"] + 1  # CreateTime has whole milliseconds
    assert top["p99_ratio_to_passthrough"] == pytest.approx(top["p99_ms"] / top["passthrough_p99_ms"], rel=0.05)
    assert results["audit_verified"] is True
    assert results["exactly_one_decision_per_record"] is True
    assert results["verify_records"] == 300  # the throughput run's log (latency runs on a broker of their own)
    assert results["gateway_cpu_us_per_decision"] > 0
    assert results["scale_out"]["exactly_one_decision_per_record"] is True
    assert results["scale_out"]["audit_verified"] is True
    assert results["scale_out"]["cpu"]["gateway_cores"] > 0
    alike = results["scale_out"]["one_process_alike"]
    assert (alike["processes"], alike["crypto_helper"], alike["exactly_one_decision_per_record"]) == (1, False, True)
    assert "gateway, one process" in stdout
    # Every target a ratio against a figure of the same run (issue #29), printed with whether it is met.
    floor = results["signature_floor_us"]
    assert floor > 0
    assert results["cpu_to_signature_floor"] == pytest.approx(results["gateway_cpu_us_per_decision"] / floor, rel=0.02)
    assert {"read", "authenticate", "contract", "outputs and audit", "write"} <= set(results["budget_us"])
    assert results["verify_to_hash_floor"] == pytest.approx(
        results["verify_per_s"] / results["verify_hash_floor_per_s"], rel=0.02
    )
    assert results["verify_one_process_hash_floor_per_s"] > 0
    for row in ("CPU a decision / signature floor", "verify / hash floor", "latency at 100/s", "targets met: "):
        assert row in stdout, row


def test_latency_is_measured_at_a_quarter_and_half_of_the_measured_throughput() -> None:
    from bench.__main__ import rates_at_load

    assert rates_at_load(2_800) == [700, 1_400]
    assert rates_at_load(2) == [1, 1], "never a rate of zero"


def test_the_growth_measure_reads_back_what_it_produces_past_a_fill() -> None:
    """bench.tansu_growth starts reading at the end of the fill: every case must see its own records."""
    from bench.tansu_growth import CASES, case

    for fill_with in CASES.values():
        figures = asyncio.run(case(fill_with, records=150, rate=200, seconds=0.5))
        assert all(math.isfinite(figures[name]) for name in ("age_p50_ms", "age_p99_ms", "ack_p99_ms")), fill_with
        assert figures["received"] == figures["sent"] == 100, fill_with  # neither the fill nor short
        assert figures["broker_cores"] >= 0


def test_the_bench_runs_every_measure_on_one_external_broker(tmp_path: Path) -> None:
    """``--bootstrap``: every measure on the given broker (Apache Kafka where there is one), on topics of its own.

    Here the broker is an embedded one the test starts, behind the produce gate as the scale-out needs on tansu.
    Every measure must find its own records among the others' on the shared broker.
    """
    with EmbeddedBroker(gate_produce=True) as broker:
        _, results = _bench(
            tmp_path / "results.json", "--bootstrap", broker.bootstrap, "--reports", "200", "--rates", "100"
        )
    assert results["machine"]["broker"] == f"external ({broker.bootstrap})"
    assert results["cpu"]["broker_cores"] is None
    assert results["workload"]["outcomes"] == expected_outcomes(200)
    assert [(lat["rounds"], lat["reports"], lat["received"]) for lat in results["latency"]] == [(2, 200, 200)]
    assert results["exactly_one_decision_per_record"] is True
    assert results["verify_records"] == 200  # the throughput run's own audit log, not the latency runs'
    assert results["scale_out"]["exactly_one_decision_per_record"] is True


def test_the_rebuild_measure_rebuilds_every_signal_and_measures_the_client_memory() -> None:
    """``python -m bench.rebuild`` on small numbers: it exits 1 when the rebuilt memory misses a signal."""
    stdout = _module("bench.rebuild", "--records", "600", "--clients", "2000")
    figures = json.loads(stdout[: stdout.rindex("}") + 1], parse_constant=_no_constants)
    assert figures["audit_records"] == 600
    assert 0 < figures["signals"] < 600  # the mix has rejected and quarantined reports too
    assert figures["rebuild_s"] > 0
    assert figures["bare_read_s"] > 0
    assert figures["rebuild_ratio"] > 0
    assert 100 < figures["bytes_per_client"] < 2_000  # 32-byte digest, 16-byte id, their containers


def test_the_report_measure_makes_an_export_that_verifies_and_reports_on_it(tmp_path: Path) -> None:
    """``python -m bench.report`` small: the export it makes must verify, or gkt report refuses it (exit 1)."""
    stdout = _module("bench.report", "--records", "3000", "--out", str(tmp_path / "export.jsonl"))
    figures = json.loads(stdout[: stdout.rindex("}") + 1], parse_constant=_no_constants)
    assert figures["audit_records"] == 3000
    assert figures["feedback_rows"] > 0  # the steps it adds were recorded against signals of the export
    assert figures["report_peak_rss_mb"] > 0
