"""Opening the WebSocket to the CSMS: URL, subprotocol, HTTP Basic auth, TLS.

OCPP-J §3 / 2.0.1 Part 4 §3: the station id is the last path segment, the subprotocol names the
version, security profile 1/2 send `Authorization: Basic base64(id:password)`, profile 3 presents
a client certificate.
"""

from __future__ import annotations

import base64
import socket
import ssl
from urllib.parse import quote, urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from simulators.ocppj import SUBPROTOCOLS
from simulators.station.config import StationConfig, TlsSettings


class ConnectFailed(Exception):
    """The connection could not be opened.

    `code` classifies why, for the report (`HTTP401`, `ConnectionRefused`, ...); `reason` says it
    in one line a person can act on; `final` is True when trying again with the same settings
    cannot help (the CSMS said no, or the TLS set-up is wrong), False for what may pass
    (nothing listening yet, a timeout, HTTP 5xx).
    """

    def __init__(self, code: str, reason: str, *, final: bool = False) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.final = final


# What an HTTP refusal of the handshake usually means for a station (OCPP-J §3, 2.0.1 Part 2).
HTTP_HINTS = {
    400: "the CSMS refused the request",
    401: "wrong or missing password (--password; the Basic user is the station id)",
    403: "the CSMS forbids this station",
    404: "the CSMS does not know this station (register it or open registration) "
    "or the URL path is wrong",
}


def _http_failure(status: int, phrase: str, body: bytes) -> ConnectFailed:
    said = body.decode("utf-8", errors="replace").strip().splitlines()
    text = f"HTTP {status} {phrase}".rstrip()
    if status in HTTP_HINTS:
        text += f": {HTTP_HINTS[status]}"
    if said and said[0]:
        text += f' (the CSMS says "{said[0][:200]}")'
    # 408 Request Timeout and 429 Too Many Requests pass; so may any 5xx.
    final = 400 <= status < 500 and status not in (408, 429)
    return ConnectFailed(f"HTTP{status}", text, final=final)


def _tls_failure(exc: ssl.SSLError) -> ConnectFailed:
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = exc.verify_message or exc.reason or str(exc)
        return ConnectFailed(
            "TLSVerifyFailed",
            f"TLS certificate verify failed: {why} (give the CA of the CSMS certificate "
            "with --ca-file)",
            final=True,
        )
    if exc.reason == "WRONG_VERSION_NUMBER":
        return ConnectFailed(
            "TLSError",
            "TLS error: the server does not speak TLS (is it plain ws://? then use ws://)",
            final=True,
        )
    return ConnectFailed("TLSError", f"TLS error: {exc.reason or exc}")


def _network_failure(exc: OSError, url: str) -> ConnectFailed:
    where = urlsplit(url).netloc
    # Several addresses (localhost: ::1 and 127.0.0.1) refusing come as one plain OSError.
    if isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc):
        return ConnectFailed(
            "ConnectionRefused",
            f"connection refused by {where} (is the CSMS running, and is this its OCPP port?)",
        )
    if isinstance(exc, socket.gaierror):
        return ConnectFailed("NetworkError", f"cannot resolve {urlsplit(url).hostname}: {exc}")
    if isinstance(exc, ConnectionResetError | ConnectionAbortedError):
        hint = " (is it plain ws:// there? then use ws://)" if url.startswith("wss://") else ""
        return ConnectFailed(
            "ConnectionReset", f"{where} closed the connection during the handshake{hint}"
        )
    return ConnectFailed(
        "NetworkError", f"network error reaching {where}: {exc or type(exc).__name__}"
    )


def endpoint(config: StationConfig) -> str:
    return f"{config.url.rstrip('/')}/{quote(config.station_id, safe='')}"


def basic_auth(station_id: str, password: str) -> str:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def authorization_key_password(key: str) -> str:
    """The Basic-auth password a 1.6 AuthorizationKey stands for.

    1.6 security whitepaper: the key is "hexadecimal represented (20 bytes maximum, represented
    as a string of up to 40 hexadecimal characters)", and the Basic header carries the non-hex
    form (OCTT TC_085_CS). 32-40 hex digits are decoded; anything else (16-20 characters of
    plain text, or bytes that are not UTF-8) is used as it is.
    """
    if 32 <= len(key) <= 40 and len(key) % 2 == 0:
        try:
            return bytes.fromhex(key).decode("utf-8")
        except ValueError:  # not hex, or not UTF-8 (UnicodeDecodeError is a ValueError)
            return key
    return key


def tls_context(tls: TlsSettings | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if tls is not None and tls.ca_file is not None:
        context.load_verify_locations(tls.ca_file)
    if tls is not None and tls.cert_file is not None:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    return context


async def open_socket(config: StationConfig, password: str | None) -> ClientConnection:
    """Connect and check the CSMS agreed to our OCPP version; raise ConnectFailed otherwise."""
    url = endpoint(config)
    headers = {"Authorization": basic_auth(config.station_id, password)} if password else None
    secure = url.startswith("wss://")
    try:
        context = tls_context(config.tls) if secure else None
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise ConnectFailed("TLSSetup", f"cannot load the TLS files: {exc}", final=True) from None
    try:
        websocket = await connect(
            url,
            subprotocols=[Subprotocol(SUBPROTOCOLS[config.version])],
            additional_headers=headers,
            ssl=context,
            open_timeout=config.connect_timeout,
            ping_interval=config.ping_interval or None,
            ping_timeout=config.ping_interval or None,
            close_timeout=2,
            compression="deflate" if config.compression else None,
            max_size=2**20,
            user_agent_header=f"csms-sim ({config.vendor} {config.model})",
        )
    except InvalidStatus as exc:
        response = exc.response
        raise _http_failure(
            response.status_code, response.reason_phrase, bytes(response.body or b"")
        ) from None
    except InvalidURI as exc:
        raise ConnectFailed("InvalidURL", f"not a WebSocket URL: {exc}", final=True) from None
    except InvalidHandshake as exc:
        hint = "" if secure else " (does the CSMS want wss://?)"
        raise ConnectFailed("HandshakeFailed", f"not a WebSocket handshake: {exc}{hint}") from None
    except TimeoutError:
        raise ConnectFailed(
            "ConnectTimeout", f"timeout: no handshake within {config.connect_timeout:g} s"
        ) from None
    except ssl.SSLError as exc:
        raise _tls_failure(exc) from None
    except OSError as exc:
        raise _network_failure(exc, url) from None
    if websocket.subprotocol != SUBPROTOCOLS[config.version]:
        # OCPP-J §3.1: a CSMS that does not speak our version completes the handshake without
        # a subprotocol (or with another); the station must not go on.
        await websocket.close(1002, "OCPP version not agreed")
        raise ConnectFailed(
            "SubprotocolRefused",
            f"the CSMS does not speak OCPP {config.version} (it chose {websocket.subprotocol!r})",
            final=True,
        )
    return websocket
