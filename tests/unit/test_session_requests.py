"""What a Pending 2.0.1 station may send: the messages the CSMS asked for (B02.FR.09)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from csms.domain.version import OcppVersion
from csms.services.session import StationSession


@pytest.mark.parametrize(
    ("action", "payload", "allowed"),
    [
        ("TriggerMessage", {"requestedMessage": "StatusNotification"}, "StatusNotification"),
        # F06: a certificate trigger is answered with SignCertificate (A02 renewal)
        (
            "TriggerMessage",
            {"requestedMessage": "SignChargingStationCertificate"},
            "SignCertificate",
        ),
        ("TriggerMessage", {"requestedMessage": "SignV2GCertificate"}, "SignCertificate"),
        ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}, "NotifyReport"),
        ("CustomerInformation", {"requestId": 2}, "NotifyCustomerInformation"),
    ],
)
def test_a_request_allows_its_answer(action: str, payload: dict[str, Any], allowed: str) -> None:
    session = StationSession("CP-1", OcppVersion.V201, cast(Any, None))
    assert allowed not in session.requested
    session.note_sent(action, payload)
    assert allowed in session.requested
