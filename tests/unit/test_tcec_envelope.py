"""The T/CEC envelope: round trips, known vectors, refusals, and interoperation with the
platform simulator's independent codec (two implementations of one document must agree)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from csms.tcec import envelope as env
from csms.tcec.envelope import EnvelopeError, Keys, Ret
from simulators.platform import codec as sim

KEYS = Keys.of("a1b2c3d4e5f6g7h8", "0011223344556677", "sig-secret")
SIM_KEYS = sim.Keys("a1b2c3d4e5f6g7h8", "0011223344556677", "sig-secret")
AT = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)  # 09:30 in China


def test_a_request_round_trips_and_matches_an_independent_computation() -> None:
    data = '{"OperatorID":"MA0CSMS01","OperatorSecret":"s"}'
    sealed = env.seal_request(KEYS, "MA0CSMS01", data, at=AT, seq=7)
    assert sealed["TimeStamp"] == "20261126093000" and sealed["Seq"] == "0007"
    # AES-128-CBC with PKCS#7, Base64 - computed here without the module
    padder = padding.PKCS7(128).padder()
    raw = padder.update(data.encode()) + padder.finalize()
    encryptor = Cipher(
        algorithms.AES(b"a1b2c3d4e5f6g7h8"), modes.CBC(b"0011223344556677")
    ).encryptor()
    expected = base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()
    assert sealed["Data"] == expected
    text = "MA0CSMS01" + expected + "20261126093000" + "0007"
    assert sealed["Sig"] == hmac.new(b"sig-secret", text.encode(), hashlib.md5).hexdigest().upper()
    opened = env.open_request(KEYS, sealed)
    assert opened.operator_id == "MA0CSMS01" and opened.data == json.loads(data)


def test_the_simulator_opens_what_the_csms_seals_and_back() -> None:
    sealed = env.seal_request(KEYS, "MA0CSMS01", '{"Amount":12.30}', at=AT, seq=1)
    request = sim.open_request(sealed, lambda _op: SIM_KEYS)
    assert request.data == {"Amount": Decimal("12.30")}
    theirs = sim.seal_answer(0, {"Status": 0}, SIM_KEYS)
    assert env.open_answer(KEYS, theirs) == env.Answer(0, "", {"Status": 0})
    ours = env.seal_answer(KEYS, 4004, "bad", '{"x":1}')
    assert sim.open_answer(ours, SIM_KEYS).ret == 4004


@pytest.mark.parametrize(
    ("body", "ret"),
    [
        (b"not json", Ret.BAD_ENVELOPE),
        (b"[1, 2]", Ret.BAD_ENVELOPE),
    ],
)
def test_bodies_that_are_not_envelopes(body: bytes, ret: Ret) -> None:
    with pytest.raises(EnvelopeError) as caught:
        env.parse_body(body)
    assert caught.value.ret is ret


def _sealed() -> dict[str, str]:
    return env.seal_request(KEYS, "MA0CSMS01", "{}", at=AT, seq=1)


@pytest.mark.parametrize(
    ("change", "ret"),
    [
        ({"Sig": None}, Ret.BAD_ENVELOPE),
        ({"Seq": "12"}, Ret.BAD_ENVELOPE),
        ({"TimeStamp": "2026-11-26"}, Ret.BAD_ENVELOPE),
        ({"Sig": "XYZ"}, Ret.BAD_ENVELOPE),
        ({"OperatorID": 5}, Ret.BAD_ENVELOPE),
    ],
)
def test_malformed_fields(change: dict[str, object], ret: Ret) -> None:
    envelope: dict[str, object] = {**_sealed(), **change}
    envelope = {k: v for k, v in envelope.items() if v is not None}
    with pytest.raises(EnvelopeError) as caught:
        env.check_fields(envelope)
    assert caught.value.ret is ret


def test_a_changed_field_breaks_the_signature() -> None:
    for field in ("OperatorID", "TimeStamp", "Seq"):
        envelope = _sealed()
        envelope[field] = "MA0OTHER1" if field == "OperatorID" else envelope[field][:-1] + "9"
        with pytest.raises(EnvelopeError) as caught:
            env.open_request(KEYS, envelope)
        assert caught.value.ret is Ret.BAD_SIGNATURE
    wrong = Keys.of("a1b2c3d4e5f6g7h8", "0011223344556677", "other")
    with pytest.raises(EnvelopeError) as caught:
        env.open_request(wrong, _sealed())
    assert caught.value.ret is Ret.BAD_SIGNATURE


def test_data_that_does_not_decrypt_is_business_error() -> None:
    envelope = _sealed()
    for data in ("!!!not base64", base64.b64encode(b"short").decode(), ""):
        envelope["Data"] = data
        envelope["Sig"] = env.sign(KEYS, "MA0CSMS01", data, envelope["TimeStamp"], "0001")
        with pytest.raises(EnvelopeError) as caught:
            env.open_request(KEYS, envelope)
        assert caught.value.ret is Ret.BAD_DATA
    other = Keys.of("zzzzzzzzzzzzzzzz", "0011223344556677", "sig-secret")
    foreign = env.seal_request(other, "MA0CSMS01", "{}", at=AT, seq=1)
    with pytest.raises(EnvelopeError) as caught:  # same Sig key, other AES key
        env.open_request(KEYS, foreign)
    assert caught.value.ret is Ret.BAD_DATA


def test_answers_are_signed_over_ret_msg_and_data() -> None:
    answer = env.seal_answer(KEYS, 0, "", '{"Status":0}')
    assert answer["Sig"] == env.sign(KEYS, "0", "", answer["Data"])
    assert env.open_answer(KEYS, answer).data == {"Status": 0}
    forged = {**answer, "Ret": 4001}
    opened = env.open_answer(KEYS, forged)  # an unsigned refusal still says what went wrong
    assert opened.ret == 4001 and opened.data is None
    with pytest.raises(EnvelopeError):
        env.open_answer(KEYS, {**answer, "Sig": "0" * 32})
    with pytest.raises(EnvelopeError):
        env.open_answer(KEYS, {"Msg": "no Ret"})


def test_seq_wraps_and_keys_are_checked() -> None:
    assert env.next_seq(9998) == 9999 and env.next_seq(9999) == 1
    with pytest.raises(ValueError):
        Keys.of("short", "0011223344556677", "s")
    assert "a1b2" not in repr(KEYS)
