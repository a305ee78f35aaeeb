"""One settings model: ``GKT_*`` environment variables, a TOML file (``--config``), CLI flags.

Precedence: command-line flag, then environment, then the TOML file, then the
default. Everything is checked at start; an error names the setting.
"""

import difflib
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from contracts.agreement_book import DEFAULT_DIR as DEFAULT_AGREEMENTS
from contracts.reviewer_book import DEFAULT_DIR as DEFAULT_REVIEWERS
from contracts.team_book import DEFAULT_DIR as DEFAULT_TEAMS
from gateway.errors import ConfigError
from routing.policy import DEFAULT_DIR as DEFAULT_POLICIES

_config_file: ContextVar[Path | None] = ContextVar("gkt_config_file", default=None)

# The definition folders, as the repository lays them out: an operator's own folder that holds them is
# used from where the command runs; elsewhere the packaged samples are (gkt prints which: rules_loader.in_use).
FOLDERS: dict[str, tuple[str, Path]] = {
    "agreements": ("contracts/agreements", DEFAULT_AGREEMENTS),
    "reviewers": ("contracts/reviewers", DEFAULT_REVIEWERS),
    "teams": ("contracts/teams", DEFAULT_TEAMS),
    "policies": ("routing/policy", DEFAULT_POLICIES),
}


def found_folder(name: str) -> Path:
    """``name``'s folder under the working directory when it has one, else the packaged sample's."""
    relative, packaged = FOLDERS[name]
    here = Path.cwd() / relative
    return here if here.is_dir() else packaged


class Settings(BaseSettings):
    """Every setting of the gateway and the ``gkt`` commands."""

    model_config = SettingsConfigDict(env_prefix="GKT_", extra="forbid", validate_default=True)

    bootstrap: str | None = Field(None, description="HOST:PORT of Kafka; none starts the embedded broker")
    topic_prefix: str = Field("", pattern=r"^[A-Za-z0-9._-]*$", description="deployment prefix of every topic")
    agreements: Path = Field(
        default_factory=lambda: found_folder("agreements"),
        description="directory of working agreements (default: ./contracts/agreements if there, else the samples)",
    )
    reviewers: Path = Field(
        default_factory=lambda: found_folder("reviewers"),
        description="directory of reviewers versions, spec/review.md (default: ./contracts/reviewers if there)",
    )
    teams: Path = Field(
        default_factory=lambda: found_folder("teams"),
        description="directory of detection teams versions, spec/selection.md (default: ./contracts/teams if there)",
    )
    policies: Path = Field(
        default_factory=lambda: found_folder("policies"),
        description="directory of enforcement policy versions (default: ./routing/policy if there)",
    )
    contracts_dir: Path | None = Field(None, description="extra report-type contract modules (*.py)")
    reference: Path | None = Field(None, description="reference data as JSON Lines instead of the topic")
    allow_test_oins: bool = Field(False, description="accept test OINs (prefix 99): demo and tests only")
    signing_key: Path | None = Field(None, description="the gateway's Ed25519 private key (PEM)")
    signing_kid: str = Field("gkt-gateway-1", min_length=1, description="kid of the gateway's key")
    client_key_file: Path | None = Field(
        None,
        description="secret: the key under which the gateway knows clients by hash (spec/selection.md; make one"
        " with gkt keys client-key); rotating it starts a new client memory",
    )
    gateway_keys: Path | None = Field(None, description="JWK set of the gateway's public keys, retired ones too")
    gateway_source: str = Field(
        "urn:nld:oin:00000001003214345000:gkt",
        description="CloudEvents source of the gateway's signals",
    )
    origin: str = Field(
        "gkt.belastingdienst.nl",
        pattern=r"^[!-*,-~]{1,200}$",
        description="the gateway's name in its checkpoints: origin lines <origin>/audit/<chain> and the key name of"
        " its signature (spec/witness.md); witnesses and verifiers are given the same",
    )
    checkpoint_seconds: float = Field(
        60, ge=0.1, le=86_400, description="the gateway writes a checkpoint of each chain it writes at most this often"
    )
    group_id: str = Field("gkt-gateway", min_length=1, description="consumer group of the gateway processes")
    partitions: int = Field(3, ge=1, le=1000, description="partitions of topics the gateway creates")
    replication_factor: int = Field(1, ge=1, le=10)
    create_topics: bool = Field(True, description="create missing topics at start")
    batch_size: int = Field(500, ge=1, le=10_000, description="records per consume batch")
    fetch_max_wait_ms: int = Field(
        10,
        ge=0,
        le=5_000,
        description="how long the broker may hold a fetch of the inbound topics for records to arrive"
        " (tansu holds it this long even when records come; Apache Kafka answers at once)",
    )
    crypto_helper: bool | None = Field(
        None,
        description="a helper process verifies partners' signatures and signs the gateway's outputs beside"
        " the decisions, on a spare core; default on when the machine has more cores than gateway processes",
    )
    session_timeout_ms: int = Field(10_000, ge=1_000)
    heartbeat_interval_ms: int = Field(3_000, ge=100)
    broker_outage_seconds: int = Field(
        60, ge=5, le=3600, description="how long Kafka may be unreachable before the gateway exits for a restart"
    )
    http_port: int = Field(8080, ge=0, le=65535, description="health and metrics; 0 turns it off")
    log_level: str = Field("info", pattern=r"^(debug|info|warning|error)$")
    security_protocol: str = Field(
        "PLAINTEXT", pattern=r"^(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$", description="Kafka security protocol"
    )
    sasl_mechanism: str = Field("SCRAM-SHA-512", pattern=r"^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$")
    sasl_username: str | None = Field(None, description="the gateway's Kafka principal")
    sasl_password: SecretStr | None = Field(None, description="its password (never logged)")
    ssl_cafile: Path | None = Field(None, description="CA bundle for SSL / SASL_SSL")
    trust_producer_time: bool = Field(
        False,
        description="accept records dated by their producer (CreateTime) on gkt.in.* and gkt.review; only for a"
        " broker that ignores message.timestamp.type=LogAppendTime (the embedded one): a sender could backdate",
    )
    idempotent_producer: bool = Field(
        False, description="idempotent producer: on for Apache Kafka; tansu refuses it (at-least-once with ids)"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = _config_file.get()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)


# GKT_ variables that are not settings: read by the demo's sample keys (gateway.demo.samples).
_NOT_SETTINGS = frozenset({"GKT_DEMO_KEYS"})


def _nearest(name: str) -> str | None:
    close = difflib.get_close_matches(name.lower(), Settings.model_fields, n=1, cutoff=0.6)
    return close[0] if close else None


def _check_environment() -> None:
    """A GKT_ variable that is no setting is a typo: pydantic would ignore it, and the setting meant with it."""
    for variable in sorted(os.environ):
        upper = variable.upper()
        if upper.startswith("GKT_") and upper not in _NOT_SETTINGS and upper[4:].lower() not in Settings.model_fields:
            near = _nearest(upper[4:])
            hint = f"did you mean GKT_{near.upper()}?" if near else "gkt.example.toml lists every setting"
            raise ConfigError(f"environment variable {variable}: no such setting ({hint})")


def load_settings(config_file: Path | None = None, **flags: Any) -> Settings:
    """Settings from flags (``None`` means not given), environment and ``config_file``."""
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"{config_file}: config file does not exist")
    _check_environment()
    token = _config_file.set(config_file)
    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as exc:
        error = exc.errors(include_input=False)[0]
        name = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":  # only the TOML file can name a setting that does not exist
            near = _nearest(name)
            hint = f"did you mean {near}?" if near else "gkt.example.toml lists every setting"
            raise ConfigError(f"{config_file}: {name}: no such setting ({hint})") from exc
        raise ConfigError(f"setting {name} (GKT_{name.upper()}): {error['msg']}") from exc
    except ValueError as exc:  # a TOML file that does not parse
        raise ConfigError(f"{config_file}: {exc}") from exc
    except RecursionError:  # x = [[[[…]]]]: one line, not a traceback of thousands
        raise ConfigError(f"{config_file}: nested too deeply to be a config file") from None
    finally:
        _config_file.reset(token)


def crypto_helper_for(settings: Settings, processes: int) -> bool:
    """``crypto_helper`` as set, or on when this machine has a core beyond the gateway's processes."""
    if settings.crypto_helper is not None:
        return settings.crypto_helper
    return (os.cpu_count() or 1) > processes
