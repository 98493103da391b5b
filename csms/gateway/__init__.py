"""WebSocket server: handshake (subprotocol, station id, security profile), connection registry."""
