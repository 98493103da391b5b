"""OCPP 2.0.1's part in the version-neutral services (see csms.services.dialects)."""

from __future__ import annotations

from csms.ocpp201 import credentials, local_list
from csms.ocpp201.answers import answer_facts
from csms.ocpp201.certificate_commands import CERTIFICATE_BUILDERS
from csms.ocpp201.commands import BUILDERS
from csms.ocpp201.device_commands import DEVICE_BUILDERS
from csms.services.dialects import Dialect

DIALECT = Dialect(
    builders={**BUILDERS, **DEVICE_BUILDERS, **CERTIFICATE_BUILDERS},
    sets_password=credentials.sets_password,
    password_call=credentials.password_call,
    password_answer=credentials.password_answer,
    password_taken=credentials.TAKEN,
    read_list_update=local_list.read_update,
    reported_list_version=local_list.reported_version,
    answer_facts=answer_facts,
)
