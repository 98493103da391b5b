"""Maps the CSMS error tree onto HTTP answers: a clear body, never a bare 500 for bad input."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from csms import errors
from csms.store.outage import DRIVER_ERRORS

log = logging.getLogger(__name__)

# How long a client should wait before trying again after a 503 (a restart of PostgreSQL or a
# failover takes seconds); /readyz says when the database is back.
RETRY_AFTER_SECONDS = 5


_HTTP_ERRORS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "invalid_request",
    429: "too_many_requests",
}


def _problem(status: int, error: str, detail: object = None) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    body = {"error": error, "detail": _utf8(detail)}
    return JSONResponse(body, status_code=status, headers=headers)


def _utf8(value: object) -> object:
    """A detail that quotes what a client sent may hold a lone surrogate, which UTF-8 cannot
    carry: written as its escape (\\ud800) instead of failing the answer."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {_utf8(k): _utf8(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_utf8(v) for v in value]
    return value


def unavailable() -> JSONResponse:
    """503 for a database outage: the request was not carried out, and may be repeated."""
    return _problem(
        503,
        "database_unavailable",
        f"the database is unavailable; try again in {RETRY_AFTER_SECONDS} s",
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_r: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
            for e in exc.errors()
        ]
        return _problem(422, "invalid_request", detail)

    @app.exception_handler(HTTPException)
    async def http_error(_r: Request, exc: HTTPException) -> JSONResponse:
        """Ours and Starlette's own (unknown path, wrong method, unreadable body)."""
        code = _HTTP_ERRORS.get(exc.status_code, "http_error")
        response = _problem(exc.status_code, code, exc.detail)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(errors.CsmsError)
    async def csms_error(request: Request, exc: errors.CsmsError) -> JSONResponse:
        if isinstance(exc, errors.DatabaseUnavailable):
            request.app.state.ctx.outage.refused("api", exc.cause)
            return unavailable()
        return to_response(exc)

    async def driver_error(request: Request, exc: Exception) -> JSONResponse:
        """A database outage is a 503 said once per interval; handled here (not by the catch-all
        below, whose answer makes uvicorn drop the connection) so keep-alive survives."""
        if request.app.state.ctx.outage.absorb(exc, "api") is not None:
            return unavailable()
        log.error("unhandled API error", exc_info=exc)
        return _problem(500, "internal_error", "the CSMS failed; see its log")

    for kind in DRIVER_ERRORS:
        app.add_exception_handler(kind, driver_error)

    @app.exception_handler(Exception)
    async def unexpected(_r: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled API error", exc_info=exc)
        return _problem(500, "internal_error", "the CSMS failed; see its log")


def to_response(exc: errors.CsmsError) -> JSONResponse:
    if isinstance(exc, errors.NotFound):
        return _problem(404, "not_found", str(exc))
    if isinstance(exc, errors.StationOffline):
        return _problem(409, "station_offline", str(exc))
    if isinstance(exc, errors.Conflict):
        return _problem(409, "conflict", str(exc))
    if isinstance(exc, errors.InvalidInput):
        # a subclass may carry a structured detail (the rows of a refused import, ...)
        return _problem(422, "invalid_input", getattr(exc, "detail", None) or str(exc))
    if isinstance(exc, errors.CallFailed):
        if exc.reason == "timeout":
            return _problem(504, "station_timeout", "the station did not answer in time")
        if exc.reason == "CALLERROR":
            return _problem(
                502, "station_callerror", {"code": exc.code, "description": exc.description}
            )
        return _problem(
            502, "station_failed", {"reason": exc.reason, "description": exc.description}
        )
    if isinstance(exc, errors.StoreError):
        log.warning("database error in API: %s", exc)
        return _problem(503, "database_unavailable", str(exc))
    return _problem(400, "bad_request", str(exc))
