"""Loads everything a decision depends on from the settings, failing at start with one line.

The one adapter from the lower packages' errors (``contracts.errors``,
``routing.errors``) to the gateway's ``ConfigError``: every loader the
gateway calls goes through here.
"""

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from contracts.agreement_book import AgreementBook
from contracts.errors import DefinitionError
from contracts.registry import ContractRegistry
from contracts.reviewer_book import ReviewerBook, shared_keys
from contracts.team_book import TeamBook
from gateway.errors import ConfigError
from gateway.keyset import KeySet
from gateway.pipeline import Rules
from gateway.selection.key import ClientKey, ClientKeyError
from gateway.settings import FOLDERS, Settings
from gateway.signing import Signer
from gateway.topics import Topics
from routing.errors import RoutingDataError
from routing.policy import PolicyBook
from routing.reference import ReferenceTable


@contextlib.contextmanager
def config_errors() -> Iterator[None]:
    """A definition, policy or reference file that is wrong stops the gateway at start, as a ConfigError."""
    try:
        yield
    except (DefinitionError, RoutingDataError) as exc:
        raise ConfigError(str(exc)) from exc


def load_rules(settings: Settings, reference: ReferenceTable | None = None) -> Rules:
    with config_errors():
        contracts = ContractRegistry.discover(settings.contracts_dir)
        if reference is None:
            reference = load_reference(settings.reference) if settings.reference else ReferenceTable()
        agreements = AgreementBook.load(settings.agreements, contracts)
        reviewers = ReviewerBook.load(settings.reviewers)
        teams = TeamBook.load(settings.teams)
    partner_keys = {
        f"a key of partner {a.partner} (agreement {a.version}, kid {k.kid})": k.fingerprint
        for a in agreements
        for k in a.keys
    }
    if clashes := shared_keys(reviewers, partner_keys):
        # A person holding a partner's key must not also count as a reviewer of its reports (spec/review.md).
        raise ConfigError(
            f"{settings.reviewers}: {clashes[0]}" + (f" (and {len(clashes) - 1} more)" if clashes[1:] else "")
        )
    reviewer_keys = {f"reviewer {r.id}'s key (kid {r.kid})": r.fingerprint for v in reviewers for r in v.reviewers}
    if clashes := shared_keys(teams, partner_keys | reviewer_keys):
        # A team's word on a signal is not a partner's, nor a reviewer's (spec/selection.md).
        raise ConfigError(
            f"{settings.teams}: {clashes[0]}" + (f" (and {len(clashes) - 1} more)" if clashes[1:] else "")
        )
    with config_errors():
        return Rules(
            contracts=contracts,
            agreements=agreements,
            policies=PolicyBook.load(settings.policies),
            reference=reference,
            topics=Topics(settings.topic_prefix),
            reviewers=reviewers,
            teams=teams,
            allow_test_oins=settings.allow_test_oins,
            trust_producer_time=settings.trust_producer_time,
        )


def folders(settings: Settings) -> dict[str, str]:
    """The definition folders a command uses: from the working directory or the packaged samples
    (``gateway.settings.found_folder``), and nobody should have to guess which. ``gkt run`` logs them at start,
    ``gkt audit replay`` prints them."""
    return {name: str(getattr(settings, name)) for name in sorted(FOLDERS)}


def in_use(settings: Settings, rules: Rules, at: datetime) -> dict[str, Any]:
    """The folders a command decides with, each with the versions in force at ``at`` (None: none is)."""
    policy = rules.policies.in_force(at)
    reviewers, teams = rules.reviewers.in_force(at), rules.teams.in_force(at)
    in_force: dict[str, Any] = {
        "agreements": {
            partner: agreement.version if (agreement := rules.agreements.in_force(partner, at)) else None
            for partner in rules.agreements.partners()
        },
        "policies": str(policy.version) if policy.contains(at) else None,
        "reviewers": reviewers.version if reviewers else None,
        "teams": teams.version if teams else None,
    }
    return {name: {"folder": folder, "in_force": in_force[name]} for name, folder in folders(settings).items()}


def in_use_line(settings: Settings, rules: Rules, at: datetime) -> str:
    """``in_use`` in one line for people (``gkt check``): ``agreements DIR (kvk 2025.2, nla 2026.1); …``."""
    parts = []
    for name, used in in_use(settings, rules, at).items():
        versions = used["in_force"]
        if isinstance(versions, dict):
            shown = ", ".join(f"{partner} {version or 'none in force'}" for partner, version in versions.items())
        else:
            shown = versions or "none in force"
        parts.append(f"{name} {used['folder']} ({shown or 'no partners'})")
    return "; ".join(parts)


def load_reference(path: Path) -> ReferenceTable:
    with config_errors():
        return ReferenceTable.from_jsonl(path)


def load_policies(settings: Settings) -> PolicyBook:
    with config_errors():
        return PolicyBook.load(settings.policies)


def load_signer(settings: Settings, reviewers: ReviewerBook | None = None, teams: TeamBook | None = None) -> Signer:
    """The gateway's signing key; an ephemeral one only where the caller asks for it.

    ``reviewers``, ``teams``: the service's (``rules``): the gateway's key must be no reviewer's or team's, or
    whoever runs the gateway could sign verdicts or feedback (spec/review.md). Commands that only read the key
    (``gkt keys show``) give none.
    """
    if settings.signing_key is None:
        raise ConfigError(
            "setting signing_key (GKT_SIGNING_KEY): the gateway needs its Ed25519 private key "
            "(make one with: gkt keys new --kid gkt-gateway-1 --out keys/)"
        )
    signer = Signer.from_pem_file(settings.signing_key, settings.signing_kid)
    own = {"the gateway's signing key": signer.public_der}
    if reviewers is not None and (clashes := shared_keys(reviewers, own)):
        raise ConfigError(f"{settings.reviewers}: {clashes[0]}: the gateway's key must be no reviewer's")
    if teams is not None and (clashes := shared_keys(teams, own)):
        raise ConfigError(f"{settings.teams}: {clashes[0]}: the gateway's key must be no team's")
    return signer


def load_client_key(settings: Settings) -> ClientKey:
    """The client key of ``client_key_file`` (spec/selection.md); the error names the file, never its content."""
    path = settings.client_key_file
    if path is None:
        raise ConfigError(
            "setting client_key_file (GKT_CLIENT_KEY_FILE): the gateway knows clients by a keyed hash and needs its"
            " secret key (make one with: gkt keys client-key --out secrets/client.key)"
        )
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"client_key_file {path}: cannot be read ({type(exc).__name__})") from None
    try:
        return ClientKey.parse(text)
    except ClientKeyError as exc:
        raise ConfigError(f"client_key_file {path}: {exc}") from None


def load_keyset(settings: Settings, signer: Signer | None = None) -> KeySet:
    """The gateway's public keys: the ``gateway_keys`` file, plus the current signing key (``signer``, or
    the one the settings name)."""
    keys = KeySet.load(settings.gateway_keys) if settings.gateway_keys else KeySet([])
    if signer is None and settings.signing_key is not None:
        signer = load_signer(settings)
    if signer is not None:
        keys = keys.with_signer(signer)
    if not len(keys):
        raise ConfigError("no gateway keys: set GKT_GATEWAY_KEYS (a JWK set file) or GKT_SIGNING_KEY, or give --keys")
    return keys
