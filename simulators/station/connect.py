"""Opening the WebSocket to the CSMS: URL, subprotocol, HTTP Basic auth, TLS.

OCPP-J §3 / 2.0.1 Part 4 §3: the station id is the last path segment, the subprotocol names the
version, security profile 1/2 send `Authorization: Basic base64(id:password)`, profile 3 presents
a client certificate.
"""

from __future__ import annotations

import base64
import ssl
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from simulators.ocppj import SUBPROTOCOLS
from simulators.station.config import StationConfig, TlsSettings


class ConnectFailed(Exception):
    """The connection could not be opened; `code` classifies why, for the report."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code


def endpoint(config: StationConfig) -> str:
    return f"{config.url.rstrip('/')}/{quote(config.station_id, safe='')}"


def basic_auth(station_id: str, password: str) -> str:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


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
        socket = await connect(
            url,
            subprotocols=[Subprotocol(SUBPROTOCOLS[config.version])],
            additional_headers=headers,
            ssl=tls_context(config.tls) if secure else None,
            open_timeout=config.connect_timeout,
            ping_interval=config.ping_interval or None,
            ping_timeout=config.ping_interval or None,
            close_timeout=2,
            compression="deflate" if config.compression else None,
            max_size=2**20,
            user_agent_header=f"csms-sim ({config.vendor} {config.model})",
        )
    except InvalidStatus as exc:
        raise ConnectFailed(f"HTTP{exc.response.status_code}", str(exc)) from None
    except InvalidHandshake as exc:
        raise ConnectFailed("HandshakeFailed", str(exc)) from None
    except TimeoutError:
        raise ConnectFailed(
            "ConnectTimeout", f"no handshake within {config.connect_timeout}s"
        ) from None
    except ssl.SSLError as exc:
        raise ConnectFailed("TLSError", str(exc)) from None
    except ConnectionRefusedError as exc:
        raise ConnectFailed("ConnectionRefused", str(exc)) from None
    except OSError as exc:
        raise ConnectFailed("NetworkError", str(exc)) from None
    if socket.subprotocol != SUBPROTOCOLS[config.version]:
        # OCPP-J §3.1: a CSMS that does not speak our version completes the handshake without
        # a subprotocol (or with another); the station must not go on.
        await socket.close(1002, "OCPP version not agreed")
        raise ConnectFailed("SubprotocolRefused", f"the CSMS chose {socket.subprotocol!r}")
    return socket
