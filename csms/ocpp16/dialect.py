"""OCPP 1.6's part in the version-neutral services (see csms.services.dialects)."""

from __future__ import annotations

from csms.ocpp16 import credentials, local_list
from csms.ocpp16.certificate_commands import CERTIFICATE_BUILDERS
from csms.ocpp16.commands import BUILDERS
from csms.ocpp16.device_commands import DEVICE_BUILDERS
from csms.services.dialects import Dialect

DIALECT = Dialect(
    builders={**BUILDERS, **DEVICE_BUILDERS, **CERTIFICATE_BUILDERS},
    sets_password=credentials.sets_password,
    password_call=credentials.password_call,
    password_answer=credentials.password_answer,
    password_taken=credentials.TAKEN,
    read_list_update=local_list.read_update,
    reported_list_version=local_list.reported_version,
)
