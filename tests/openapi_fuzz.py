"""A bounded, property-based fuzz of every operation in a running CSMS's OpenAPI document.

Schemathesis turns each operation into a Hypothesis strategy of requests (positive: what the
schema allows; negative: what it forbids); this module sends them over a real socket with
`requests` and judges each answer by the checks below. It collects findings instead of
raising, so one pass covers every operation and reports every route that failed, not the first.
It is synchronous: run it in a thread beside the event loop that serves the CSMS.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.schemas import APIOperation

POSITIVE = GenerationMode.POSITIVE
NEGATIVE = GenerationMode.NEGATIVE
# The live feed never ends: read its status and headers, never its body.
STREAMS = frozenset({("GET", "/api/v1/events")})
# What a success may be besides JSON when the request asks for it (format=csv|html).
FORMATS = {"csv": "text/csv", "html": "text/html"}
# A station's own failure relayed by the CSMS (CALLERROR, timeout, bad answer) is a gateway
# answer the command routes document (502/504), not a fault of the CSMS.
GATEWAY_ERRORS = frozenset({"station_callerror", "station_failed", "station_timeout"})
COMMAND_PATH = re.compile(r"^/api/v1/stations/\{station_id\}/(commands/|ocpp/)")
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Finding:
    """One answer that broke a rule: enough to reproduce it by hand."""

    operation: str
    rule: str
    status: int
    request: str
    response: str

    def __str__(self) -> str:
        return (
            f"{self.operation}: {self.rule} (HTTP {self.status})\n"
            f"  {self.request}\n  -> {self.response}"
        )


@dataclass
class Fuzzer:
    """Sends generated cases to `base_url` and keeps the first finding per (operation, rule)."""

    base_url: str
    session: requests.Session = field(default_factory=requests.Session)
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # per operation, to find the slow

    def send(self, case: Case, authorization: str | None) -> requests.Response:
        kwargs = case.as_transport_kwargs(base_url=self.base_url)
        headers = dict(kwargs.pop("headers"))
        headers.pop("Authorization", None)
        if authorization is not None:
            headers["Authorization"] = authorization
        streams = (case.method.upper(), case.path) in STREAMS
        try:
            response = self.session.request(
                **kwargs, headers=headers, stream=streams, timeout=REQUEST_TIMEOUT
            )
        except requests.RequestException as exc:
            # uvicorn drops the connection when a handler's exception escapes every handler
            self.sent += 1
            self.session = requests.Session()
            return _dropped(case, kwargs, exc)
        if streams and response.status_code == 200:
            response.close()  # the feed is open: its head is all there is to judge
        self.sent += 1
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response

    def note(self, case: Case, rule: str, response: requests.Response) -> None:
        key = (case.operation.label, rule)
        if key in self.findings:
            return
        request = f"{case.method.upper()} {response.request.url}"
        if response.request.body:
            body = response.request.body
            text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
            request += f" body={text[:400]!r}"
        streams = (case.method.upper(), case.path) in STREAMS
        answer = "(stream)" if streams else response.text[:400]
        self.findings[key] = Finding(
            case.operation.label, rule, response.status_code, request, answer
        )


def _dropped(case: Case, kwargs: dict[str, Any], exc: Exception) -> requests.Response:
    """A stand-in answer for a request that got none: status 0, the error as its text."""
    response = requests.Response()
    response.status_code = 0
    response._content = f"no answer: {exc!r}".encode()
    response.request = requests.Request(
        case.method.upper(), kwargs["url"], params=kwargs.get("params"), json=kwargs.get("json")
    ).prepare()
    return response


Check = Callable[[Case, requests.Response], Iterable[str]]


def no_server_error(case: Case, response: requests.Response) -> Iterable[str]:
    """No 5xx, except a command route relaying its station's failure as a gateway."""
    if 0 < response.status_code < 500:
        return
    if COMMAND_PATH.match(case.path) and response.status_code in (502, 504):
        error = _json(response)
        if isinstance(error, dict) and error.get("error") in GATEWAY_ERRORS:
            return
    yield "server error" if response.status_code else "no answer (connection dropped)"


def json_answers(case: Case, response: requests.Response) -> Iterable[str]:
    """JSON routes answer JSON; every refusal is the house problem body {error, detail}."""
    if response.status_code == 0:
        return  # no_server_error reports it
    kind = response.headers.get("content-type", "")
    if (case.method.upper(), case.path) in STREAMS and response.status_code == 200:
        if not kind.startswith("text/event-stream"):
            yield f"the live feed answered {kind!r}"
        return
    if response.status_code == 204:
        return
    if response.status_code < 300 and kind.split(";")[0].strip() in _other_media(case):
        return
    if not kind.startswith("application/json"):
        yield f"content-type {kind!r} is not JSON"
        return
    body = _json(response)
    if body is _UNREADABLE:
        yield "body is not JSON"
    elif response.status_code >= 400 and not (
        isinstance(body, dict) and set(body) == {"error", "detail"} and body["error"]
    ):
        yield "refusal is not an {error, detail} problem body"


def _other_media(case: Case) -> set[str]:
    """Media types besides JSON a success of this case may have: those the operation documents
    for a 2xx answer (the registry export's CSV), or the one asked for with `format`."""
    responses = case.operation.definition.raw.get("responses", {})
    documented = {
        media
        for code, answer in responses.items()
        if str(code).startswith("2")
        for media in answer.get("content", {})
    }
    asked = FORMATS.get(str((case.query or {}).get("format")))
    return documented | ({asked} if asked else set())


def no_success_without(role: str) -> Check:
    """Nothing under /api/v1 succeeds with a missing or wrong key, or a viewer's write."""

    def check(case: Case, response: requests.Response) -> Iterable[str]:
        if not case.path.startswith("/api/v1/") or response.status_code >= 300:
            return
        if role == "none" or (role == "viewer" and case.method.upper() != "GET"):
            yield f"{case.method.upper()} succeeded for {role}"

    return check


_UNREADABLE = object()


def _json(response: requests.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        return _UNREADABLE


def load(spec: Mapping[str, Any]) -> list[APIOperation]:
    """Every operation of an OpenAPI document, in document order."""
    schema = schemathesis.openapi.from_dict(dict(spec))
    return [result.ok() for result in schema.get_all_operations()]


def cases(
    operation: APIOperation, mode: GenerationMode, known: Mapping[str, Any]
) -> st.SearchStrategy[Case]:
    """Generated cases, and as many again whose path names rows that exist (`known`)."""
    generated = operation.as_strategy(generation_mode=mode)
    names = {p.name for p in operation.path_parameters}
    if not names or not names <= set(known):
        return generated
    real = {name: known[name] for name in names}
    return st.one_of(generated, operation.as_strategy(generation_mode=mode, path_parameters=real))


@dataclass(frozen=True, slots=True)
class Budget:
    """How much to generate: examples per operation and mode, and a seed (None: derandomized,
    the same cases on every run)."""

    examples: int
    seed: int | None = None


def fuzz(
    fuzzer: Fuzzer,
    operation: APIOperation,
    strategy: st.SearchStrategy[Case],
    budget: Budget,
    authorization: str | None,
    checks: Iterable[Check],
    prepare: Callable[[Case], None] = lambda case: None,
) -> None:
    """Send `budget.examples` cases of `strategy`; note what breaks `checks`, never raise."""
    rules = tuple(checks)

    @settings(
        max_examples=budget.examples,
        derandomize=budget.seed is None,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @given(case=strategy)
    def run(case: Case) -> None:
        prepare(case)
        response = fuzzer.send(case, authorization)
        for rule in rules:
            for broken in rule(case, response):
                fuzzer.note(case, broken, response)

    if budget.seed is not None:
        run = seed(budget.seed)(run)
    began = time.monotonic()
    try:
        run()
    except Unsatisfiable:
        pass  # an operation without inputs (GET /healthz) has no negative cases
    finally:
        took = time.monotonic() - began
        fuzzer.seconds[operation.label] = fuzzer.seconds.get(operation.label, 0.0) + took
