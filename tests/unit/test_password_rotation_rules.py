"""Password rotation rules (pure): the generated password, the 1.6 key format, and what a
successful connect does to a pending rotation."""

from __future__ import annotations

import pytest

from csms.domain.password import (
    ROTATED_LENGTH_16,
    ROTATED_LENGTH_201,
    Outcome,
    PendingState,
    authorization_key,
    generate_password,
    handshake_outcome,
)
from simulators.station.connect import authorization_key_password


@pytest.mark.parametrize("length", [ROTATED_LENGTH_16, ROTATED_LENGTH_201, 16])
def test_generated_passwords_fit_both_versions(length: int) -> None:
    passwords = {generate_password(length) for _ in range(50)}
    assert len(passwords) == 50  # from the CSPRNG: no repeats
    assert all(len(p) == length and p.isalnum() and p.isascii() for p in passwords)


@pytest.mark.parametrize("length", [15, 41])
def test_generated_passwords_keep_the_ocpp_lengths(length: int) -> None:
    with pytest.raises(ValueError):
        generate_password(length)


def test_the_16_key_is_the_password_hex_encoded_and_the_station_decodes_it() -> None:
    password = generate_password(ROTATED_LENGTH_16)
    key = authorization_key(password)
    assert len(key) == 40 and bytes.fromhex(key) == password.encode()
    assert authorization_key_password(key) == password
    # a plain 16-20 character key is used as it is (whitepaper: the non-hex form)
    assert authorization_key_password("second-password-16") == "second-password-16"
    with pytest.raises(ValueError):
        authorization_key("x" * 21)  # more than the key's 20 bytes


@pytest.mark.parametrize(
    ("used_new", "state", "outcome"),
    [
        (False, None, Outcome.KEEP),
        (True, PendingState.SENT, Outcome.RETIRE_OLD),
        (True, PendingState.ACCEPTED, Outcome.RETIRE_OLD),
        (True, PendingState.UNCONFIRMED, Outcome.RETIRE_OLD),
        (False, PendingState.SENT, Outcome.KEEP),  # the answer is still on its way
        (False, PendingState.ACCEPTED, Outcome.KEEP),  # it may reboot before switching
        (False, PendingState.UNCONFIRMED, Outcome.DROP_NEW),  # it never took the new one
    ],
)
def test_what_a_connect_does_to_a_pending_rotation(
    used_new: bool, state: PendingState | None, outcome: Outcome
) -> None:
    assert handshake_outcome(used_new, state) is outcome


@pytest.mark.parametrize(
    ("used_new", "state", "outcome"),
    [
        (False, PendingState.SENT, Outcome.DROP_NEW),  # nobody will record its answer now
        (True, PendingState.SENT, Outcome.RETIRE_OLD),  # it took it all the same
        (False, PendingState.ACCEPTED, Outcome.KEEP),  # accepted: it may still reboot first
    ],
)
def test_a_rotation_abandoned_while_sent(
    used_new: bool, state: PendingState, outcome: Outcome
) -> None:
    assert handshake_outcome(used_new, state, abandoned=True) is outcome
