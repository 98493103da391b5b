"""The T/CEC 102.4 envelope: AES-128-CBC Data, HMAC-MD5 Sig, signed answers (docs/tcec-wire.md)."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

CST = ZoneInfo("Asia/Shanghai")
FIELDS = ("OperatorID", "Data", "TimeStamp", "Seq", "Sig")
_TIMESTAMP = re.compile(r"^\d{14}$")
_SEQ = re.compile(r"^\d{4}$")
_SIG = re.compile(r"^[0-9A-Fa-f]{32}$")
_OPERATOR = re.compile(r"^[0-9A-Za-z]{1,32}$")


class Ret(IntEnum):
    """Answer codes of T/CEC 102.4."""

    BUSY = -1
    OK = 0
    BAD_SIGNATURE = 4001
    BAD_TOKEN = 4002
    BAD_ENVELOPE = 4003
    BAD_DATA = 4004
    SYSTEM_ERROR = 500


class EnvelopeError(Exception):
    """A request or answer that fails the envelope rules; `ret` is what to answer."""

    def __init__(self, ret: Ret, msg: str) -> None:
        super().__init__(msg)
        self.ret = ret
        self.msg = msg


@dataclass(frozen=True, slots=True)
class Keys:
    """The secrets both sides agree on for one platform."""

    data_secret: bytes
    data_iv: bytes
    sig_secret: bytes

    def __post_init__(self) -> None:
        if len(self.data_secret) != 16 or len(self.data_iv) != 16:
            raise ValueError("DataSecret and DataSecretIV must be 16 bytes each (AES-128)")
        if not self.sig_secret:
            raise ValueError("SigSecret must not be empty")

    @classmethod
    def of(cls, data_secret: str, data_iv: str, sig_secret: str) -> Keys:
        return cls(data_secret.encode(), data_iv.encode(), sig_secret.encode())

    def __repr__(self) -> str:  # secrets never reach a log through a repr
        return "Keys(<secret>)"


@dataclass(frozen=True, slots=True)
class Request:
    operator_id: str
    data: Any
    timestamp: str
    seq: str


@dataclass(frozen=True, slots=True)
class Answer:
    ret: int
    msg: str
    data: Any


def encrypt(keys: Keys, text: str) -> str:
    padder = padding.PKCS7(128).padder()
    raw = padder.update(text.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(keys.data_secret), modes.CBC(keys.data_iv)).encryptor()
    return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode("ascii")


def decrypt(keys: Keys, data: str) -> str:
    """Base64 -> AES-CBC -> unpad -> UTF-8; any failure is BAD_DATA (the Sig already passed)."""
    try:
        raw = base64.b64decode(data.encode("ascii"), validate=True)
        if not raw or len(raw) % 16:
            raise ValueError("not a whole number of AES blocks")
        decryptor = Cipher(algorithms.AES(keys.data_secret), modes.CBC(keys.data_iv)).decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode()
    except (ValueError, UnicodeError, binascii.Error) as exc:
        raise EnvelopeError(Ret.BAD_DATA, f"Data does not decrypt: {exc}") from None


def sign(keys: Keys, *parts: str) -> str:
    return hmac.new(keys.sig_secret, "".join(parts).encode(), "md5").hexdigest().upper()


def timestamp(at: datetime) -> str:
    return at.astimezone(CST).strftime("%Y%m%d%H%M%S")


def next_seq(seq: int) -> int:
    """Seq runs 0001..9999 and wraps to 0001."""
    return 1 if seq >= 9999 else seq + 1


def seal_request(
    keys: Keys, operator_id: str, data_json: str, *, at: datetime, seq: int
) -> dict[str, str]:
    data = encrypt(keys, data_json)
    stamp, seq_text = timestamp(at), f"{seq:04d}"
    return {
        "OperatorID": operator_id,
        "Data": data,
        "TimeStamp": stamp,
        "Seq": seq_text,
        "Sig": sign(keys, operator_id, data, stamp, seq_text),
    }


def parse_body(body: bytes | str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeError, RecursionError):
        raise EnvelopeError(Ret.BAD_ENVELOPE, "the body is not JSON") from None
    if not isinstance(value, dict):
        raise EnvelopeError(Ret.BAD_ENVELOPE, "the body is not a JSON object")
    return value


def check_fields(envelope: dict[str, Any]) -> None:
    """The five fields are present strings of the right shape (4003 otherwise)."""
    missing = [f for f in FIELDS if not isinstance(envelope.get(f), str) or not envelope[f]]
    if missing:
        raise EnvelopeError(Ret.BAD_ENVELOPE, f"missing or not a string: {', '.join(missing)}")
    if not _TIMESTAMP.match(envelope["TimeStamp"]):
        raise EnvelopeError(Ret.BAD_ENVELOPE, "TimeStamp must be yyyyMMddHHmmss")
    if not _SEQ.match(envelope["Seq"]):
        raise EnvelopeError(Ret.BAD_ENVELOPE, "Seq must be four digits")
    if not _SIG.match(envelope["Sig"]):
        raise EnvelopeError(Ret.BAD_ENVELOPE, "Sig must be 32 hex digits")
    if not _OPERATOR.match(envelope["OperatorID"]):
        raise EnvelopeError(Ret.BAD_ENVELOPE, "OperatorID must be 1-32 letters and digits")


def open_request(keys: Keys, envelope: dict[str, Any]) -> Request:
    """Check the signature before decrypting; the caller already ran check_fields."""
    operator, data, stamp, seq = (envelope[f] for f in FIELDS[:4])
    expected = sign(keys, operator, data, stamp, seq)
    if not hmac.compare_digest(expected, envelope["Sig"].upper()):
        raise EnvelopeError(Ret.BAD_SIGNATURE, "signature mismatch")
    text = decrypt(keys, data)
    try:
        payload = json.loads(text, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise EnvelopeError(Ret.BAD_DATA, "Data is not JSON") from None
    return Request(operator, payload, stamp, seq)


def seal_answer(keys: Keys, ret: int, msg: str, data_json: str | None) -> dict[str, Any]:
    data = "" if data_json is None else encrypt(keys, data_json)
    return {"Ret": ret, "Msg": msg, "Data": data, "Sig": sign(keys, str(ret), msg, data)}


def open_answer(keys: Keys, body: dict[str, Any]) -> Answer:
    """Check an answer's shape and signature and decrypt its Data (None when empty)."""
    ret, msg, data, sig = (body.get(k) for k in ("Ret", "Msg", "Data", "Sig"))
    if not isinstance(ret, int) or isinstance(ret, bool):
        raise EnvelopeError(Ret.BAD_ENVELOPE, "the answer has no integer Ret")
    msg = msg if isinstance(msg, str) else ""
    data = data if isinstance(data, str) else ""
    if not isinstance(sig, str) or not hmac.compare_digest(
        sign(keys, str(ret), msg, data), sig.upper()
    ):
        # A platform that answers an error unsigned still tells us its Ret and Msg.
        if ret != Ret.OK:
            return Answer(ret, msg, None)
        raise EnvelopeError(Ret.BAD_SIGNATURE, "the answer's signature does not match")
    if not data:
        return Answer(ret, msg, None)
    try:
        return Answer(ret, msg, json.loads(decrypt(keys, data), parse_float=Decimal))
    except ValueError:
        raise EnvelopeError(Ret.BAD_DATA, "the answer's Data is not JSON") from None
