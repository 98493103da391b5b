"""OCPP-J RPC framing: CALL/CALLRESULT/CALLERROR, message ids, schema validation, error codes."""
