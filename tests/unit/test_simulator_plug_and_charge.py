"""The simulator's Plug & Charge messages and scenario section (pure): each payload is a valid
2.0.1 request, and the shipped scenario's contract is the one the CSMS test provider knows."""

from __future__ import annotations

import pytest

from csms.iso15118 import fixture_provider
from ocppj import validation
from simulators.fleet.scenario import ScenarioError, from_toml, load
from simulators.station.plug_and_charge import (
    CertificateHash,
    Contract,
    authorize_request,
    certificate_status_request,
    ev_certificate_request,
)

LEAF = CertificateHash("aa" * 32, "bb" * 32, "5A3E0001")


def test_payloads_are_valid_201_requests() -> None:
    contract = Contract("CNSZCE0000001A", (LEAF, LEAF), exi_request="ZXhp")
    validation.validate("2.0.1", "Get15118EVCertificate", ev_certificate_request(contract))
    validation.validate("2.0.1", "GetCertificateStatus", certificate_status_request(LEAF))
    payload = authorize_request(contract)
    validation.validate("2.0.1", "Authorize", payload)
    assert payload["idToken"] == {"idToken": "CNSZCE0000001A", "type": "eMAID"}
    assert len(payload["iso15118CertificateHashData"]) == 2


@pytest.mark.parametrize("count", [0, 5])
def test_a_contract_names_one_to_four_certificates(count: int) -> None:
    with pytest.raises(ValueError):
        Contract("E", (LEAF,) * count)


def test_the_shipped_scenario_matches_the_test_provider() -> None:
    pnc = load("plug-and-charge").plug_and_charge
    assert pnc is not None and pnc.share == 1.0
    (leaf,) = pnc.contract.hashes
    assert pnc.contract.exi_request == fixture_provider.EXI_REQUEST
    assert (leaf.issuer_name_hash, leaf.issuer_key_hash, leaf.serial_number) == (
        fixture_provider.ISSUER_NAME_HASH,
        fixture_provider.ISSUER_KEY_HASH,
        fixture_provider.GOOD_SERIAL,
    )


@pytest.mark.parametrize(
    "section",
    [
        'share = 0.5\nemaid = "E"',  # no certificates
        'emaid = "E"\ncertificates = [{ serial_number = "1" }]',
        'emaid = "E"\ncertificates = []',
        'share = 2.0\nemaid = "E"\ncertificates = [{ issuer_name_hash = "a", '
        'issuer_key_hash = "b", serial_number = "1" }]',
        'emaid = "E"\ncolour = "red"\ncertificates = []',
    ],
)
def test_a_wrong_plug_and_charge_section_is_refused(section: str) -> None:
    with pytest.raises(ScenarioError):
        from_toml(f'name = "x"\n[plug_and_charge]\n{section}\n', name="x")
