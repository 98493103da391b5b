"""What one OCPP version contributes to the version-neutral services (commands, station
passwords, local lists).

The services call these; the version packages (csms.ocpp16.dialect, csms.ocpp201.dialect) fill
them in; the composition root (csms.bootstrap) hands them over. So no service imports a version
package: data flows from the versions to the services, never back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from csms.domain.local_list import ListUpdate
from csms.domain.reports import AnswerFacts
from csms.domain.version import OcppVersion
from csms.rpc.payloads import Builder

Params = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Dialect:
    # version-neutral command name (as the API names it) -> (action, payload)
    builders: Mapping[str, Builder]
    # whether a CALL would set the station's Basic-auth password
    sets_password: Callable[[str, Params], bool]
    # the CALL that sets a new password: (action, payload, payload as the command log keeps it)
    password_call: Callable[[str], tuple[str, Params, Params]]
    # the station's status in its answer to that CALL, and the ones that mean it took it
    password_answer: Callable[[Params], str]
    password_taken: frozenset[str]
    # a SendLocalList request as a version-neutral update; GetLocalListVersion's answer
    read_list_update: Callable[[Params], ListUpdate]
    reported_list_version: Callable[[Params], int]
    # what an answer teaches the CSMS (requested reports, monitors, messages), if anything
    answer_facts: Callable[[str, Params, Params], AnswerFacts] | None = None


Dialects = Mapping[OcppVersion, Dialect]
