"""``gkt keys``: partners' key pairs and the gateway's public keys."""

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.options import Config
from gateway.cli.options import settings as settings_for
from gateway.errors import UsageError

keys_app = typer.Typer(help="Signing keys: partners' key pairs and the gateway's public keys.", no_args_is_help=True)


@keys_app.command("new")
def keys_new(
    kid: Annotated[str, typer.Option("--kid", help="key id to put in the agreement")],
    out: Annotated[Path, typer.Option("--out", help="directory for KID.pem, KID.pub.pem, KID.jwk.json")],
) -> None:
    """Make an Ed25519 key pair: private PEM (mode 600), public PEM and public JWK.

    Example: gkt keys new --kid nla-2026-01 --out keys/
    """
    from gateway.keyset import GatewayKey
    from gateway.signing import Signer

    signer = Signer.generate(kid)
    out.mkdir(parents=True, exist_ok=True)
    private = out / f"{kid}.pem"
    if private.exists():
        raise UsageError(f"{private}: exists already; choose another --kid or --out")
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(signer.private_pem())
    (out / f"{kid}.pub.pem").write_bytes(signer.public_pem())
    (out / f"{kid}.jwk.json").write_text(json.dumps(GatewayKey(signer.kid, signer.key).as_jwk(), indent=2) + "\n")
    typer.echo(f"wrote {private} (keep it secret), {out / (kid + '.pub.pem')} and {out / (kid + '.jwk.json')}")


@keys_app.command("show")
def keys_show(config: Config = None) -> None:
    """Print the gateway's public keys as a JWK set: the current one and every retired one.

    Example: GKT_SIGNING_KEY=keys/gw.pem GKT_GATEWAY_KEYS=keys/gateway-keys.json gkt keys show
    """
    from gateway.rules_loader import load_keyset

    typer.echo(json.dumps(load_keyset(settings_for(config)).as_jwks(), indent=2))
