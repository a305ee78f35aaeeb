"""``gkt keys``: partners' key pairs and the gateway's public keys."""

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from gateway.cli.options import Config
from gateway.cli.options import settings as settings_for
from gateway.errors import UsageError

keys_app = typer.Typer(help="Signing keys: partners' key pairs and the gateway's public keys.", no_args_is_help=True)


_MODES = {"0600", "0400", "0640", "0440", "0644", "0444"}


@keys_app.command("new")
def keys_new(
    kid: Annotated[str, typer.Option("--kid", help="key id to put in the agreement")],
    out: Annotated[Path, typer.Option("--out", help="directory for KID.pem, KID.pub.pem, KID.jwk.json")],
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="file mode of the private key: 0600, or 0644/0640 for a container's user to read it "
            "(then DIR must be yours alone, mode 700)",
        ),
    ] = "0600",
) -> None:
    """Make an Ed25519 key pair: private PEM (mode 0600 unless --mode), public PEM and public JWK.

    A container that runs as another user (the gateway image: uid 10001) reads a key bind-mounted from the
    host only when others may read the file: --mode 0644, in a directory nobody else can enter (docs/operations.md).
    Example: gkt keys new --kid nla-2026-01 --out keys/
    """
    from gateway.keyset import GatewayKey
    from gateway.signing import Signer

    permissions = _secret_folder(out, mode)
    signer = Signer.generate(kid)
    private = out / f"{kid}.pem"
    _write_secret(private, signer.private_pem(), permissions, "choose another --kid or --out")
    (out / f"{kid}.pub.pem").write_bytes(signer.public_pem())
    (out / f"{kid}.jwk.json").write_text(json.dumps(GatewayKey(signer.kid, signer.key).as_jwk(), indent=2) + "\n")
    entry = out / f"{kid}.agreement.toml"
    entry.write_text(agreement_entry(kid, signer.public_pem().decode("ascii"), datetime.now(UTC)))
    typer.echo(f"wrote {private} (keep it secret), {out / (kid + '.pub.pem')} and {out / (kid + '.jwk.json')}")
    typer.echo(f"wrote {entry}: the [[keys]] entry of your working agreement, ready to paste (docs/partners.md)")


def _secret_folder(folder: Path, mode: str) -> int:
    """``mode`` as permissions, after checking it lets nobody else write, and read only in a folder of yours."""
    if mode not in _MODES:
        raise UsageError(f"--mode {mode}: one of {', '.join(sorted(_MODES))} (nobody but you may write a key)")
    permissions = int(mode, 8)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if permissions & 0o044 and (exposed := folder.stat().st_mode & 0o077):
        raise UsageError(
            f"--mode {mode} lets others read the key, so {folder} must be yours alone (it is mode "
            f"{0o700 | exposed:o}): chmod 700 {folder}"
        )
    return permissions


def _write_secret(path: Path, content: bytes, permissions: int, otherwise: str) -> None:
    """Write a new secret file, created mode 0600 (never an existing file: a key is never overwritten)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{path}: exists already; {otherwise}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.chmod(path, permissions)  # after writing: the umask cannot widen or narrow it


@keys_app.command("client-key")
def keys_client_key(
    out: Annotated[Path, typer.Option("--out", help="the file to write, e.g. secrets/client.key (must not exist)")],
    mode: Annotated[
        str, typer.Option("--mode", help="file mode: 0600, or 0644/0640 for a container's user (folder mode 700)")
    ] = "0600",
) -> None:
    """Make the gateway's client key: 32 random bytes as base64url text, for the setting client_key_file.

    The gateway knows a client (opdrachtgever.kvkNummer) only by HMAC-SHA-256 under this key, in its memory and
    in the audit log (spec/selection.md). Keep it with the signing key; every gateway process needs the same
    one. A new key starts a new memory: signals then count no earlier signal made under the old one.
    Example: gkt keys client-key --out secrets/client.key
    """
    from gateway.selection.key import ClientKey

    permissions = _secret_folder(out.parent, mode)
    _write_secret(out, ClientKey.generate().text().encode("ascii"), permissions, "a client key is never replaced")
    typer.echo(f"wrote {out} (keep it secret): set client_key_file (GKT_CLIENT_KEY_FILE) to it")


def agreement_entry(kid: str, public_pem: str, made: datetime) -> str:
    """The ``[[keys]]`` entry of a working agreement for a new Ed25519 key, counting from the next day."""
    start = (made + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        "# Paste into your working agreement, contracts/agreements/<partner>/<version>.toml (docs/partners.md).\n"
        "# not_before: when the key starts counting; agree on it with the Belastingdienst.\n"
        "[[keys]]\n"
        f'kid = "{kid}"\n'
        'alg = "EdDSA"\n'
        f"public_key = {json.dumps(public_pem.strip())}\n"
        f"not_before = {start.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        "# not_after = 2028-01-01T00:00:00Z   # when it is retired\n"
        "# revoked_at = ...                    # if it leaked\n"
    )


@keys_app.command("show")
def keys_show(
    config: Config = None,
    thumbprints: Annotated[
        bool, typer.Option("--thumbprints", help="one line per key: kid and RFC 7638 thumbprint, for partners to pin")
    ] = False,
) -> None:
    """Print the gateway's public keys as a JWK set: the current one and every retired one.

    The Belastingdienst publishes this set (gkt run serves it at /.well-known/jwks.json) and tells each
    partner the thumbprints over another channel; partners pin them with gkt keys fetch (docs/partners.md).
    Example: GKT_SIGNING_KEY=keys/gw.pem GKT_GATEWAY_KEYS=keys/gateway-keys.json gkt keys show
    """
    from gateway.rules_loader import load_keyset

    keys = load_keyset(settings_for(config))
    if thumbprints:
        for key in keys:
            typer.echo(f"{key.kid} {key.thumbprint}")
    else:
        typer.echo(json.dumps(keys.as_jwks(), indent=2))


# A JWK set of a few keys is a few KiB; more is not one.
_MOST_BYTES = 1_048_576


@keys_app.command("fetch")
def keys_fetch(
    source: Annotated[str, typer.Argument(help="the gateway JWK set: https://…/.well-known/jwks.json, or a file")],
    pin: Annotated[
        list[str],
        typer.Option("--pin", help="RFC 7638 thumbprint the Belastingdienst gave you, once per key (repeat)"),
    ],
    out: Annotated[Path, typer.Option("--out", help="where to write the pinned key set, e.g. gateway-keys.json")],
    timeout: Annotated[float, typer.Option("--timeout", help="seconds to wait for the URL")] = 10.0,
) -> None:
    """Fetch the gateway's public keys and keep them only when every key is one you pinned.

    The thumbprints come over another channel than the keys (the working agreement's letter): whoever could
    change the key set in transit cannot change them too. Rotation: pin the new key's thumbprint beside the
    old and fetch again. Exit 0 written, 1 refused (nothing written).
    Example: gkt keys fetch https://gkt.example.nl/.well-known/jwks.json --pin 3q0h… --out gateway-keys.json
    """
    from gateway.errors import GatewayError
    from gateway.keyset import KeySet

    content = _read_source(source, timeout)
    keys = KeySet.parse(content, "the key set fetched")
    if strangers := keys.unpinned(pin):
        unknown = {key.thumbprint for key in strangers}
        listed = ", ".join(f"key {n + 1} ({key.thumbprint})" for n, key in enumerate(keys) if key.thumbprint in unknown)
        raise GatewayError(
            f"{listed} of the key set fetched is not pinned: nothing written. Check the thumbprint with the "
            "Belastingdienst over another channel before you pin it."
        )
    temporary = out.with_name(out.name + ".partial")
    temporary.write_text(json.dumps(keys.as_jwks(), indent=2) + "\n")
    temporary.replace(out)
    for key in keys:
        typer.echo(f"pinned {key.thumbprint} (kid {key.kid})")
    typer.echo(f"wrote {out}: give it as --keys to gkt publish and gkt receipt")


def _read_source(source: str, timeout: float) -> bytes:
    """The bytes at ``source``: an http(s) URL, or a file; at most ``_MOST_BYTES``."""
    import urllib.error
    import urllib.request

    from gateway.errors import BrokerError

    if not source.startswith(("https://", "http://")):
        try:
            with Path(source).open("rb") as handle:
                content = handle.read(_MOST_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"{source}: cannot read ({exc.strerror})") from exc
    else:
        try:
            with urllib.request.urlopen(source, timeout=timeout) as answer:  # noqa: S310 - http(s) only, checked above
                content = answer.read(_MOST_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise BrokerError(f"{source}: answered HTTP {exc.code}; nothing written") from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BrokerError(f"{source}: cannot fetch ({type(reason).__name__}); nothing written") from exc
    if len(content) > _MOST_BYTES:
        raise UsageError(f"{source}: more than {_MOST_BYTES} bytes, so not a JWK set; nothing written")
    return content
