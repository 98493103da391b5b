"""OCPP-J on the wire, shared by the CSMS and the simulators: frames, error codes, schemas.

It imports neither `csms` nor `simulators` (the simulators must work against any CSMS), and
reads only the JSON schema files of the `ocpp` package, never its ChargePoint.
Versions are the strings "1.6" and "2.0.1" (csms' OcppVersion is a str enum of them).
"""
