"""The T/CEC 102 envelope: AES-128-CBC + Base64 Data, HMAC-MD5 Sig, Seq, CST TimeStamp, Ret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

CST = timezone(timedelta(hours=8), "CST")
REQUEST_FIELDS = ("OperatorID", "Data", "TimeStamp", "Seq", "Sig")
ANSWER_FIELDS = ("Ret", "Msg", "Data", "Sig")
_TIMESTAMP = re.compile(r"\d{14}")
_SEQ = re.compile(r"\d{4}")


class Ret(IntEnum):
    """Answer codes of the doc's table."""

    BUSY = -1
    OK = 0
    BAD_SIG = 4001
    BAD_TOKEN = 4002
    BAD_PARAMS = 4003
    BAD_DATA = 4004
    ERROR = 500


class CodecError(Exception):
    """Something on the wire does not follow the envelope rules."""


class EnvelopeError(CodecError):
    """A request the receiver must refuse, with the Ret and Msg to answer."""

    def __init__(self, ret: int, msg: str) -> None:
        super().__init__(f"{ret}: {msg}")
        self.ret = ret
        self.msg = msg


class BadAnswer(CodecError):
    """An answer that is not a well-formed envelope (the caller cannot trust it)."""


class SignatureError(BadAnswer):
    """An answer whose Sig does not match: someone else answered, or the keys differ."""


@dataclass(frozen=True, slots=True)
class Keys:
    """The three secrets one pair of parties shares; checked here so a typo fails loudly."""

    data_secret: str
    data_iv: str
    sig_secret: str

    def __post_init__(self) -> None:
        for name in ("data_secret", "data_iv"):
            value = getattr(self, name)
            if not value.isascii() or len(value) != 16:
                raise ValueError(f"{name} must be 16 ASCII characters")
        if not self.sig_secret:
            raise ValueError("sig_secret must not be empty")


@dataclass(frozen=True, slots=True)
class Request:
    """An opened request: who sent it, and its decrypted Data."""

    operator_id: str
    data: Any
    timestamp: str
    seq: str


@dataclass(frozen=True, slots=True)
class Answer:
    """An opened answer; `data` is None when the answer carries no Data."""

    ret: int
    msg: str
    data: Any


class SeqCounter:
    """`0001`..`9999` per sender, wrapping back to `0001`."""

    def __init__(self, start: int = 1) -> None:
        if not 1 <= start <= 9999:
            raise ValueError("start must be 1..9999")
        self._next = start

    def next(self) -> str:
        value = self._next
        self._next = value % 9999 + 1
        return f"{value:04d}"


def timestamp(moment: datetime | None = None) -> str:
    """`yyyyMMddHHmmss` in China Standard Time, whatever zone `moment` is in."""
    if moment is None:
        moment = datetime.now(CST)
    elif moment.tzinfo is None:
        raise ValueError("a TimeStamp needs an aware datetime")
    return moment.astimezone(CST).strftime("%Y%m%d%H%M%S")


def parse_timestamp(text: str) -> datetime:
    """The CST moment of a TimeStamp; ValueError when it is not `yyyyMMddHHmmss`."""
    if not _TIMESTAMP.fullmatch(text):
        raise ValueError(f"TimeStamp {text!r} is not yyyyMMddHHmmss")
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=CST)


def sign(secret: str, text: str) -> str:
    """HMAC-MD5 of the UTF-8 text, 32 uppercase hex digits."""
    return hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest().upper()


def encrypt(plain: bytes, keys: Keys) -> str:
    """AES-128-CBC with PKCS#7 padding, then standard padded Base64."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = _cipher(keys).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def decrypt(text: str, keys: Keys) -> bytes:
    """The plain bytes of a Data field; CodecError for bad Base64, length or padding."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        decryptor = _cipher(keys).decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()
    except (ValueError, binascii.Error) as error:  # UnicodeEncodeError is a ValueError
        raise CodecError(f"Data does not decrypt: {error}") from error


def _cipher(keys: Keys) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(keys.data_secret.encode()), modes.CBC(keys.data_iv.encode()))


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON text, compact by default; Decimals are written as exact numbers (money stays exact)."""
    return "".join(_write(value, indent, 0))


def loads(text: str | bytes) -> Any:
    """JSON with every fraction as a Decimal, so `12.30` stays `12.30`."""
    return json.loads(text, parse_float=Decimal)


def _write(value: Any, indent: int | None, level: int) -> Iterator[str]:
    if isinstance(value, str):
        yield json.dumps(value, ensure_ascii=False)
    elif value is None:
        yield "null"
    elif value is True:
        yield "true"
    elif value is False:
        yield "false"
    elif isinstance(value, int):
        yield str(int(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} is not a JSON number")
        yield str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a JSON number")
        yield repr(value)
    elif isinstance(value, Mapping):
        yield from _container("{", "}", list(value.items()), indent, level, keyed=True)
    elif isinstance(value, list | tuple):
        yield from _container("[", "]", [(None, v) for v in value], indent, level, keyed=False)
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _container(
    open_: str,
    close: str,
    items: list[tuple[Any, Any]],
    indent: int | None,
    level: int,
    *,
    keyed: bool,
) -> Iterator[str]:
    if not items:
        yield open_ + close
        return
    inner = "" if indent is None else "\n" + " " * (indent * (level + 1))
    outer = "" if indent is None else "\n" + " " * (indent * level)
    colon = ":" if indent is None else ": "
    yield open_
    for position, (key, item) in enumerate(items):
        yield ("," if position else "") + inner
        if keyed:
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings")
            yield json.dumps(key, ensure_ascii=False) + colon
        yield from _write(item, indent, level + 1)
    yield outer + close


def seal_request(
    operator_id: str, data: Any, keys: Keys, *, seq: str, stamp: str | None = None
) -> dict[str, str]:
    """The envelope of a request from `operator_id` carrying `data`."""
    sealed = encrypt(dumps(data).encode(), keys)
    stamp = timestamp() if stamp is None else stamp
    return {
        "OperatorID": operator_id,
        "Data": sealed,
        "TimeStamp": stamp,
        "Seq": seq,
        "Sig": sign(keys.sig_secret, operator_id + sealed + stamp + seq),
    }


def open_request(
    body: bytes | str | Mapping[str, Any], keys_for: Callable[[str], Keys | None]
) -> Request:
    """Check a request envelope in the order a receiver must, raising EnvelopeError with its Ret.

    4003 for a body that is no JSON object, a missing or non-string field, an unknown
    OperatorID (its keys are unknown, so nothing else can be checked) or a bad TimeStamp or
    Seq; then 4001 for a wrong Sig; then 4004 for Data that does not decrypt to JSON.
    """
    envelope: Any = body
    if not isinstance(body, Mapping):
        try:
            envelope = json.loads(body)
        except ValueError as error:
            raise EnvelopeError(Ret.BAD_PARAMS, "body is not JSON") from error
    if not isinstance(envelope, Mapping):
        raise EnvelopeError(Ret.BAD_PARAMS, "body is not a JSON object")
    for field in REQUEST_FIELDS:
        if not isinstance(envelope.get(field), str):
            raise EnvelopeError(Ret.BAD_PARAMS, f"{field} missing or not a string")
    operator_id: str = envelope["OperatorID"]
    sealed: str = envelope["Data"]
    stamp: str = envelope["TimeStamp"]
    seq: str = envelope["Seq"]
    keys = keys_for(operator_id)
    if keys is None:
        raise EnvelopeError(Ret.BAD_PARAMS, f"unknown OperatorID {operator_id!r}")
    try:
        parse_timestamp(stamp)
    except ValueError as error:
        raise EnvelopeError(Ret.BAD_PARAMS, str(error)) from error
    if not _SEQ.fullmatch(seq) or seq == "0000":
        raise EnvelopeError(Ret.BAD_PARAMS, f"Seq {seq!r} is not 0001..9999")
    expected = sign(keys.sig_secret, operator_id + sealed + stamp + seq)
    if not hmac.compare_digest(expected, envelope["Sig"]):
        raise EnvelopeError(Ret.BAD_SIG, "signature wrong")
    try:
        data = loads(decrypt(sealed, keys).decode("utf-8"))
    except (CodecError, ValueError) as error:  # UnicodeDecodeError and JSON errors included
        raise EnvelopeError(Ret.BAD_DATA, f"Data is not encrypted JSON: {error}") from error
    return Request(operator_id, data, stamp, seq)


def seal_answer(ret: int, data: Any, keys: Keys, msg: str = "") -> dict[str, Any]:
    """The answer envelope; `data` None leaves Data empty (error answers)."""
    sealed = "" if data is None else encrypt(dumps(data).encode(), keys)
    return {"Ret": int(ret), "Msg": msg, "Data": sealed, "Sig": answer_sig(ret, msg, sealed, keys)}


def answer_sig(ret: int, msg: str, sealed: str, keys: Keys) -> str:
    """Sig of an answer: over Ret in decimal, Msg and the Base64 Data."""
    return sign(keys.sig_secret, f"{int(ret)}{msg}{sealed}")


def open_answer(body: bytes | str | Mapping[str, Any], keys: Keys) -> Answer:
    """Check an answer's shape and Sig, then decrypt its Data; BadAnswer or SignatureError."""
    envelope: Any = body
    if not isinstance(body, Mapping):
        try:
            envelope = json.loads(body)
        except ValueError as error:
            raise BadAnswer("answer is not JSON") from error
    if not isinstance(envelope, Mapping):
        raise BadAnswer("answer is not a JSON object")
    ret = envelope.get("Ret")
    if not isinstance(ret, int) or isinstance(ret, bool):
        raise BadAnswer("Ret missing or not an integer")
    for field in ("Msg", "Data", "Sig"):
        if not isinstance(envelope.get(field), str):
            raise BadAnswer(f"{field} missing or not a string")
    msg: str = envelope["Msg"]
    sealed: str = envelope["Data"]
    if not hmac.compare_digest(answer_sig(ret, msg, sealed, keys), envelope["Sig"]):
        raise SignatureError("answer signature wrong")
    if not sealed:
        return Answer(ret, msg, None)
    try:
        data = loads(decrypt(sealed, keys).decode("utf-8"))
    except (CodecError, ValueError) as error:
        raise BadAnswer(f"answer Data is not encrypted JSON: {error}") from error
    return Answer(ret, msg, data)


def encode(envelope: Mapping[str, Any]) -> bytes:
    """The HTTP body of an envelope: compact UTF-8 JSON."""
    return dumps(envelope).encode()
