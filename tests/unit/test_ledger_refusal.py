"""What a station reads when the ledger refuses its message: the kind of fault, never the
database's own text (table, constraint and type names)."""

from __future__ import annotations

import asyncpg
import pytest

from csms.store.ledger import refusal


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (
            asyncpg.ForeignKeyViolationError('violates foreign key constraint "fk_station"'),
            "it names a station or transaction that does not exist",
        ),
        (
            asyncpg.NumericValueOutOfRangeError("value out of range for type integer"),
            "a value in it cannot be stored",
        ),
        (OverflowError("int too big to convert"), "a value in it cannot be stored"),
        (
            asyncpg.CheckViolationError('violates check constraint "meter_samples_value_chk"'),
            "it conflicts with what is stored",
        ),
        (
            asyncpg.InternalServerError("could not open relation 1663/16384/2619"),
            "a storage fault (logged by the CSMS)",
        ),
        (RuntimeError("asyncpg.protocol detail"), "a storage fault (logged by the CSMS)"),
    ],
)
def test_the_refusal_names_the_kind_of_fault_only(exc: BaseException, said: str) -> None:
    assert refusal(exc) == said
    assert str(exc) not in said
