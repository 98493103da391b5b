"""What the CSMS accepts from a Plug & Charge provider (pure): the 2.0.1 shapes, nothing else."""

from __future__ import annotations

import base64

import pytest

from csms.iso15118.model import (
    ContractStatus,
    ProviderError,
    certificate_status_answer,
    contract_status,
    ev_certificate_answer,
    hash_statuses,
)

B64 = base64.b64encode(b"exi").decode()


@pytest.mark.parametrize(
    "answer",
    [
        None,
        "Accepted",
        {},
        {"status": "accepted", "exi_response": B64},  # the enum is case-sensitive
        {"status": "Accepted"},  # no EXI for the EV
        {"status": "Accepted", "exi_response": ""},
        {"status": "Accepted", "exi_response": "not base64!"},
        {"status": "Accepted", "exi_response": 42},
        {"status": "Accepted", "exi_response": "QUFB" * 1876},  # 7504 > 7500
    ],
)
def test_ev_certificate_answers_that_are_refused(answer: object) -> None:
    with pytest.raises(ProviderError):
        ev_certificate_answer(answer)


def test_ev_certificate_answers_that_pass() -> None:
    assert ev_certificate_answer({"status": "Accepted", "exi_response": B64}).exi_response == B64
    failed = ev_certificate_answer({"status": "Failed", "exi_response": "ignored"})
    assert (failed.accepted, failed.exi_response) == (False, "")


@pytest.mark.parametrize(
    ("answer", "accepted", "result"),
    [
        ({"status": "Accepted", "ocsp_result": B64}, True, B64),
        ({"status": "Failed"}, False, None),
        ({"status": "Failed", "ocsp_result": B64}, False, None),  # not passed on when Failed
    ],
)
def test_certificate_status_answers(answer: object, accepted: bool, result: str | None) -> None:
    checked = certificate_status_answer(answer)
    assert (checked.accepted, checked.ocsp_result) == (accepted, result)


@pytest.mark.parametrize(
    "answer", [{"status": "Accepted"}, {"status": "Accepted", "ocsp_result": "A" * 5504}]
)
def test_certificate_status_answers_that_are_refused(answer: object) -> None:
    with pytest.raises(ProviderError):
        certificate_status_answer(answer)


@pytest.mark.parametrize(
    ("answer", "count"),
    [(["Accepted"], 2), (["Accepted", "Good"], 2), ("Accepted", 1), ({"0": "Accepted"}, 1)],
)
def test_hash_statuses_are_one_known_status_per_hash(answer: object, count: int) -> None:
    with pytest.raises(ProviderError):
        hash_statuses(answer, count)


@pytest.mark.parametrize(
    ("statuses", "chain"),
    [
        (["Accepted"], "Accepted"),
        (["Accepted", "Accepted", "Accepted"], "Accepted"),
        (["Accepted", "CertificateRevoked", "CertificateExpired"], "CertificateRevoked"),
        (["ContractCancelled", "Accepted"], "ContractCancelled"),
    ],
)
def test_the_chain_is_accepted_only_when_every_certificate_is(
    statuses: list[str], chain: str
) -> None:
    assert contract_status(hash_statuses(statuses, len(statuses))) is ContractStatus(chain)
