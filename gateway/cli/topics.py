"""``gkt topics``: the Kafka topics of the gateway."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.options import Agreements, Bootstrap, Config, TopicPrefix
from gateway.cli.options import settings as settings_for
from gateway.errors import UsageError

topics_app = typer.Typer(help="Kafka topics of the gateway.", no_args_is_help=True)


@topics_app.command("create")
def topics_create(
    config: Config = None,
    bootstrap: Bootstrap = None,
    topic_prefix: TopicPrefix = None,
    agreements: Agreements = None,
    partitions: Annotated[int | None, typer.Option("--partitions", help="partitions per topic")] = None,
) -> None:
    """Create every topic of the spec for the partners that have an agreement.

    Example: gkt topics create --bootstrap kafka:9092 --partitions 6
    """
    from gateway.kafka.admin import ensure_topics
    from gateway.kafka.security import client_options
    from gateway.provision.plan import topic_specs
    from gateway.rules_loader import load_rules

    settings = settings_for(
        config,
        bootstrap=bootstrap,
        topic_prefix=topic_prefix,
        agreements=agreements,
        partitions=partitions,
    )
    if not settings.bootstrap:
        raise UsageError("--bootstrap is required (the embedded broker forgets topics when it stops)")
    rules = load_rules(settings)
    destinations = rules.policies.destinations()
    specs = topic_specs(rules.topics, rules.agreements.partners(), destinations, settings.partitions)
    states = asyncio.run(
        ensure_topics(settings.bootstrap, specs, settings.replication_factor, **client_options(settings))
    )
    for spec in specs:
        created, partitions = states[spec.name]
        note = "" if created or partitions == spec.partitions else f"; asked for {spec.partitions}, kept as it is"
        plural = "" if partitions == 1 else "s"
        typer.echo(f"{'created' if created else 'exists '}  {spec.name}  ({partitions} partition{plural}{note})")


@topics_app.command("plan")
def topics_plan(
    config: Config = None,
    topic_prefix: TopicPrefix = None,
    agreements: Agreements = None,
    partitions: Annotated[int | None, typer.Option("--partitions", help="partitions per topic")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="write the plan here instead of to stdout")] = None,
) -> None:
    """Print what a Kafka cluster needs for the partners with an agreement: principals, topics, ACLs.

    docker/kafka/provision.sh runs it; onboarding a partner is its agreement file (and its password).
    Example: gkt topics plan --agreements /etc/gkt/agreements --partitions 6 --out plan.sh
    """
    from gateway.provision.plan import acls, principals, topic_specs
    from gateway.provision.script import render
    from gateway.rules_loader import load_rules

    settings = settings_for(config, topic_prefix=topic_prefix, agreements=agreements, partitions=partitions)
    rules = load_rules(settings)
    partners, destinations = rules.agreements.partners(), rules.policies.destinations()
    script = render(
        principals(partners),
        topic_specs(rules.topics, partners, destinations, settings.partitions),
        acls(rules.topics, partners, destinations, settings.group_id),
        f"agreements {settings.agreements} (partners {', '.join(partners)}) and policies {settings.policies}",
    )
    if out is None:
        typer.echo(script, nl=False)
        return
    out.write_text(script)
    typer.echo(f"wrote {out}: {len(partners)} partners ({', '.join(partners)})", err=True)
