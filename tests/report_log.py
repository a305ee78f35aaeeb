"""An audit log built in the tests for ``gkt report``: records as the gateway writes them, only the members the
figures read, with counts the test knows."""

import random
import uuid
from datetime import UTC, date, datetime
from typing import Any

from gateway.report.figures import FigureCounter, Table, Window

YEAR = Window(date(2026, 1, 1), date(2026, 12, 31), "quarter")


class Log:
    """Audit records as the gateway writes them, only the members the figures read."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.offsets: dict[str, int] = {}

    def _placed(self, topic: str, at: datetime) -> dict[str, Any]:
        offset = self.offsets[topic] = self.offsets.get(topic, -1) + 1
        return {
            "chain": f"{topic}/0",
            "inbound": {"topic": topic, "partition": 0, "offset": offset, "timestamp": at.isoformat()},
        }

    def report(self, partner: str, outcome: str, at: datetime, *codes: str, vervolg: str = "detectie") -> str:
        """One report's record; its signal id when routed, its item when quarantined."""
        record = {**self._placed(f"gkt.in.{partner}", at), "outcome": outcome}
        record["reasons"] = [{"code": code, "path": None} for code in codes]
        signal_id = str(uuid.uuid4())
        if outcome == "routed":
            record["destination"] = {"topic": "bd.detectie.mkb", "signal_id": signal_id, "vervolg": vervolg}
        self.records.append(record)
        inbound = record["inbound"]
        return signal_id if outcome == "routed" else f"{inbound['topic']}/0/{inbound['offset']}"

    def close(self, item: str, outcome: str, at: datetime, partner: str = "kvk") -> str:
        signal_id = str(uuid.uuid4())
        record = {**self._placed("gkt.review", at), "outcome": outcome, "review": {"item": item}}
        record["versions"] = {"agreement": f"{partner}:2026.1:sha256:00"}
        if outcome == "released":
            record["destination"] = {"topic": "bd.detectie.go", "signal_id": signal_id, "vervolg": "detectie"}
        self.records.append(record)
        return signal_id

    def step(self, signal_id: str, status: str, on: str, partner: str = "nla", outcome: str = "recorded") -> None:
        feedback = {"signal_id": signal_id, "status": status, "op": on, "team": "mkb-oost", "partner": partner}
        self.records.append({**self._placed("bd.terugkoppeling", NOON), "outcome": outcome, "feedback": feedback})

    def tables(self, window: Window = YEAR, shuffle: bool = False) -> dict[str, Table]:
        records = list(self.records)
        if shuffle:
            random.Random(7).shuffle(records)
        counter = FigureCounter(window)
        for record in records:
            counter.add(record)
        return {table.name: table for table in counter.tables()}


NOON = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
