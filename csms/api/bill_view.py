"""A bill as the API shows it (a session's running cost, a tariff's quote): money as strings
with their cents, energy in kWh, one line per tariff band and time span."""

from __future__ import annotations

from typing import Any

from csms.billing.cdr import kwh
from csms.billing.pricing import Bill


def bill_view(bill: Bill) -> dict[str, Any]:
    return {
        "total": str(bill.total),
        "energy_wh": bill.energy_wh,
        "energy_kwh": kwh(bill.energy_wh),
        "energy_money": str(bill.energy_money),
        "service_money": str(bill.service_money),
        "idle_minutes": bill.idle.minutes,
        "idle_fee": str(bill.idle.fee),
        "session_fee": str(bill.session_fee),
        "allocation": bill.allocation.value,
        "tariff": {"id": bill.tariff_id, "version": bill.tariff_version},
        "lines": [
            {
                "band": line.band.value,
                "start": line.start,
                "end": line.end,
                "energy_kwh": kwh(line.energy_wh),
                "energy_money": str(line.energy_money),
                "service_money": str(line.service_money),
            }
            for line in bill.lines
        ],
    }
