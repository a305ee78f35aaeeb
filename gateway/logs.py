"""structlog as JSON lines on stderr. Log events carry positions, ids and codes, never report content.

Libraries log through the standard library (aiokafka, uvicorn); their lines
are rendered by the same structlog processors, so the log stays one JSON
object per line. Each line, its newline included, is one write: the workers of
``gkt run --workers N`` share one stderr, and a line written in two parts (as
``print`` does) lets another process's line in between. A line that repeats (aiokafka says "Unable connect to
node" several times a second while Kafka is down) is written once per
``REPEAT_WINDOW_SECONDS`` with the count of the ones left out.
"""

import logging
import sys
import time
from collections.abc import Callable

import structlog

REPEAT_WINDOW_SECONDS = 10.0


class RepeatFilter(logging.Filter):
    """Lets the first of a repeated library message through, then one per window with a count."""

    def __init__(
        self, window_seconds: float = REPEAT_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._window = window_seconds
        self._clock = clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        since, suppressed = self._seen.get(key, (-self._window, 0))
        if now - since < self._window:
            self._seen[key] = (since, suppressed + 1)
            return False
        if len(self._seen) > 1_000:  # a bounded memory, whatever the messages
            self._seen.clear()
        self._seen[key] = (now, 0)
        if suppressed:
            record.repeated = suppressed
        return True


def configure(level: str = "info", *, json: bool = True) -> None:
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    numeric = logging.getLevelNamesMapping()[level.upper()]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),  # a line and its newline in one write
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name, structlog.stdlib.ExtraAdder(("repeated",))],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    logging.getLogger("aiokafka").setLevel(logging.NOTSET)  # the command line quiets it (gkt main); a log does not
    # Libraries are chatty at info; their warnings and errors are what an operator needs.
    root.setLevel(max(numeric, logging.WARNING))
