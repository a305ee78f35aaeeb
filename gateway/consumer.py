"""For detection consumers: signals verified against the gateway's keys, each ``signal_id`` once.

    keys = KeySet.load(Path("gateway-keys.json"))           # from `gkt keys show`
    async with SignalSubscriber("kafka:9092", ["bd.detectie.mkb"], "detectie-mkb", keys) as signals:
        async for batch in signals.batches():
            for signal in batch:
                handle(signal.data)                          # contracts.signal.Signal
            await signals.commit()                           # after handling: at least once

The helper lives at the Kafka edge (gateway/kafka/subscriber.py); this module
is its public name and the example consumer of docker/compose.yaml
(``python -m gateway.consumer``).
"""

import json

from gateway.kafka.subscriber import RecentSignals, SeenSignals, SignalSubscriber, VerifiedSignal

__all__ = ["RecentSignals", "SeenSignals", "SignalSubscriber", "VerifiedSignal"]


async def _example() -> None:
    """The example consumer of docker/compose.yaml: one JSON line per new, verified signal."""
    from gateway.kafka.security import client_options
    from gateway.rules_loader import load_keyset, load_policies
    from gateway.settings import load_settings
    from gateway.topics import Topics

    settings = load_settings()
    if not settings.bootstrap:
        raise SystemExit("set GKT_BOOTSTRAP")
    topics = Topics(settings.topic_prefix)
    names = [topics.destination(n) for n in load_policies(settings).destinations()]
    async with SignalSubscriber(
        settings.bootstrap, names, "detectie-example", load_keyset(settings), **client_options(settings)
    ) as signals:
        async for batch in signals.batches():
            for signal in batch:
                # Ids and codes only: a log line never carries a BSN or a name.
                print(
                    json.dumps(
                        {
                            "signal_id": signal.signal_id,
                            "topic": signal.topic,
                            "partner": signal.data.melding.partner,
                            "oordeel": signal.data.oordeel,
                        }
                    )
                )
            await signals.commit()


if __name__ == "__main__":
    import asyncio

    asyncio.run(_example())
