"""Secrets at rest: platform keys the CSMS must use in the clear are sealed with AES-256-GCM.

The sealing key comes from CSMS_SECRET_KEY or a key file (created with mode 0600 on first use),
so a database dump alone does not reveal a platform's secrets. Every node of a deployment needs
the same key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from csms.errors import ConfigError

_NONCE = 12


class SealedBox:
    """Seal and open short secrets; `repr` never shows the key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ConfigError("the secret key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plain: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._aead.encrypt(nonce, plain.encode(), b"csms-platform-secret")

    def open(self, sealed: bytes) -> str:
        try:
            return self._aead.decrypt(
                sealed[:_NONCE], sealed[_NONCE:], b"csms-platform-secret"
            ).decode()
        except (InvalidTag, ValueError):
            raise ConfigError(
                "a stored platform secret does not open with this node's secret key "
                "(CSMS_SECRET_KEY / --secret-key-file differ from the node that stored it)"
            ) from None

    def __repr__(self) -> str:
        return "SealedBox(<key>)"


def load_key(env_key: str | None, key_file: Path) -> bytes:
    """The key from the environment, else from the file, which is created if missing."""
    if env_key:
        return _decode(env_key, "CSMS_SECRET_KEY")
    if key_file.exists():
        return _decode(key_file.read_text(encoding="ascii").strip(), str(key_file))
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process on this data directory made it first
        return _decode(key_file.read_text(encoding="ascii").strip(), str(key_file))
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(base64.b64encode(key).decode() + "\n")
    return key


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where}: the secret key must be base64 of 32 bytes") from None
    if len(key) != 32:
        raise ConfigError(f"{where}: the secret key must be base64 of 32 bytes")
    return key
