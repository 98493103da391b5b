"""The simulated station's certificate wallet: its CSRs pass the CSMS's checks, it keeps only
a chain made for its own pending key, and it installs, lists and deletes roots by hash data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from csms.pki.csr import check_csr
from csms.pki.hash_data import hash_data
from csms.pki.local_ca import LocalCa, init_ca
from simulators.station.certificates import CertificateWallet

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def pem(certs: list[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def test_a_csr_is_signed_and_only_its_chain_is_kept(tmp_path: Path) -> None:
    init_ca(tmp_path, organization="CPO", common_name="CA", days=100, now=NOW)
    ca = LocalCa.load(tmp_path, valid_days=30)
    wallet = CertificateWallet("SIM-1", "CPO")
    assert not wallet.accept_chain(pem([ca.certificate]))  # nothing asked for yet
    first = check_csr(wallet.new_csr(), station_id="SIM-1", organization="CPO")
    stale = asyncio.run(ca.sign(first, "SIM-1", NOW))
    second = check_csr(wallet.new_csr(), station_id="SIM-1", organization="CPO")
    assert not wallet.accept_chain(pem(stale))  # made for the key of an older CSR
    assert not wallet.accept_chain("garbage")
    fresh = asyncio.run(ca.sign(second, "SIM-1", NOW))
    assert wallet.accept_chain(pem(fresh))
    assert wallet.chain == fresh and wallet.key is not None
    assert not wallet.accept_chain(pem(fresh))  # the pending key is used up


def test_roots_are_installed_listed_and_deleted_by_hash_data(tmp_path: Path) -> None:
    init_ca(tmp_path, organization="CPO", common_name="CA", days=100, now=NOW)
    ca = LocalCa.load(tmp_path, valid_days=30)
    root = pem([ca.certificate])
    wallet = CertificateWallet("SIM-1", "CPO")
    assert wallet.installed([]) == []
    assert wallet.install("CSMSRootCertificate", "not a certificate") == "Rejected"
    leaf = asyncio.run(
        ca.sign(check_csr(wallet.new_csr(), station_id="SIM-1", organization="CPO"), "SIM-1", NOW)
    )
    assert wallet.install("CSMSRootCertificate", pem(leaf)) == "Rejected"  # not a CA
    assert wallet.install("CSMSRootCertificate", root) == "Accepted"
    assert wallet.install("CSMSRootCertificate", root) == "Accepted"  # kept once
    ids = hash_data(ca.certificate, ca.certificate)
    assert wallet.installed(["CSMSRootCertificate"]) == [("CSMSRootCertificate", ids)]
    assert wallet.installed(["ManufacturerRootCertificate"]) == []
    assert wallet.delete({**ids, "serialNumber": "1"}) == "NotFound"
    assert wallet.delete({**ids, "issuerKeyHash": "00"}) == "NotFound"
    upper = {
        **ids,
        "issuerNameHash": ids["issuerNameHash"].upper(),
        "serialNumber": "0" + ids["serialNumber"],
    }
    assert wallet.delete(upper) == "Accepted"
    assert wallet.installed([]) == []
