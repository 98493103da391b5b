"""The API's error answers are always sendable, whatever text they quote."""

from __future__ import annotations

import json

from csms.api import errors


def test_a_detail_quoting_a_lone_surrogate_is_still_answered() -> None:
    response = errors._problem(422, "invalid_request", {"msg": ["SumPeriod is \ud800"]})
    body = json.loads(response.body)
    assert body == {"error": "invalid_request", "detail": {"msg": ["SumPeriod is \\ud800"]}}


def test_plain_details_are_unchanged() -> None:
    detail = {"n": 1, "text": "正常 ✓", "list": [None, 2.5]}
    assert json.loads(errors._problem(404, "not_found", detail).body)["detail"] == detail
