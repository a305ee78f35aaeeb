"""The client key: the secret under which the gateway knows a client (spec/selection.md).

A client is remembered as HMAC-SHA-256 of its KVK-nummer under this key, never
by the number itself. A plain hash of an eight-digit number is no protection
(all 10^8 can be tried in seconds); a keyed one is, for whoever lacks the key.
The key is a secret setting (``client_key_file``): verify and replay do not need
it, and rotating it starts a new memory.

The file holds the key as one line of base64url text (``gkt keys client-key``
makes one), so that it fits a secret store's text field as it is.
"""

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

CLIENT_PREFIX = "hmac-sha256:"
KEY_BYTES = 32  # HMAC-SHA-256's block of security: a shorter key is refused
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


class ClientKeyError(ValueError):
    """The key file's content is no client key; the message never quotes it (it is a secret)."""


@dataclass(frozen=True)
class ClientKey:
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < KEY_BYTES:
            raise ClientKeyError(f"a client key has at least {KEY_BYTES} bytes; this one has {len(self.secret)}")

    @classmethod
    def generate(cls) -> "ClientKey":
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def parse(cls, text: str) -> "ClientKey":
        """The key as ``text`` gives it: base64url (padding optional), whitespace around it ignored."""
        stripped = text.strip()
        if not _BASE64URL.fullmatch(stripped):
            raise ClientKeyError("not one line of base64url text (make a key with: gkt keys client-key --out FILE)")
        try:
            secret = base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
        except (binascii.Error, ValueError):
            raise ClientKeyError("not valid base64url (make a key with: gkt keys client-key --out FILE)") from None
        return cls(secret)

    def text(self) -> str:
        """The key as its file holds it: base64url without padding, and a newline."""
        return base64.urlsafe_b64encode(self.secret).rstrip(b"=").decode("ascii") + "\n"

    def digest(self, kvk_nummer: str) -> str:
        """``hmac-sha256:<hex>`` of the KVK-nummer: the client as the audit log and the memory know it."""
        mac = hmac.new(self.secret, kvk_nummer.encode("utf-8"), hashlib.sha256)
        return CLIENT_PREFIX + mac.hexdigest()
