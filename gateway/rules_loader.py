"""Loads everything a decision depends on from the settings, failing at start with one line."""

from contracts.agreement_book import AgreementBook
from contracts.registry import ContractRegistry
from gateway.errors import ConfigError
from gateway.keyset import KeySet
from gateway.pipeline import Rules
from gateway.settings import Settings
from gateway.signing import Signer
from gateway.topics import Topics
from routing.policy import PolicyBook
from routing.reference import ReferenceTable


def load_rules(settings: Settings, reference: ReferenceTable | None = None) -> Rules:
    contracts = ContractRegistry.discover(settings.contracts_dir)
    if reference is None:
        reference = ReferenceTable.from_jsonl(settings.reference) if settings.reference else ReferenceTable()
    return Rules(
        contracts=contracts,
        agreements=AgreementBook.load(settings.agreements, contracts),
        policies=PolicyBook.load(settings.policies),
        reference=reference,
        topics=Topics(settings.topic_prefix),
        allow_test_oins=settings.allow_test_oins,
    )


def load_signer(settings: Settings) -> Signer:
    """The gateway's signing key; an ephemeral one only where the caller asks for it."""
    if settings.signing_key is None:
        raise ConfigError(
            "setting signing_key (GKT_SIGNING_KEY): the gateway needs its Ed25519 private key "
            "(make one with: gkt keys new --kid gkt-gateway-1 --out keys/)"
        )
    return Signer.from_pem_file(settings.signing_key, settings.signing_kid)


def load_keyset(settings: Settings) -> KeySet:
    """The gateway's public keys: the ``gateway_keys`` file, plus the current signing key."""
    keys = KeySet.load(settings.gateway_keys) if settings.gateway_keys else KeySet([])
    if settings.signing_key is not None:
        keys = keys.with_signer(load_signer(settings))
    if not len(keys):
        raise ConfigError("no gateway keys: set GKT_GATEWAY_KEYS (a JWK set file) or GKT_SIGNING_KEY, or give --keys")
    return keys
