-- Station client certificates the CSMS's CA issued (OCPP 2.0.1 A02/A03, 1.6 security
-- whitepaper A02/A03): kept after the station is gone, since a revocation must outlive it.
CREATE TABLE issued_certificates (
    serial             text PRIMARY KEY CHECK (serial ~ '^[0-9a-f]{1,40}$'),  -- lowercase hex
    station_id         text NOT NULL,
    certificate_type   text NOT NULL
                       CHECK (certificate_type IN ('ChargingStationCertificate', 'V2GCertificate')),
    subject            text NOT NULL,
    issuer             text NOT NULL,
    not_before         timestamptz NOT NULL,
    not_after          timestamptz NOT NULL,
    pem                text NOT NULL,
    issued_at          timestamptz NOT NULL,
    -- the station's answer to CertificateSigned: pending until it answers
    delivery           text NOT NULL DEFAULT 'pending'
                       CHECK (delivery IN ('pending', 'Accepted', 'Rejected', 'failed')),
    delivery_detail    text,
    command_id         bigint REFERENCES command_log (id) ON DELETE SET NULL,
    revoked_at         timestamptz,
    revoked_by         text,
    revocation_reason  text,
    CHECK (not_after > not_before),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX issued_certificates_station ON issued_certificates (station_id, not_after DESC);
CREATE INDEX issued_certificates_revoked ON issued_certificates (revoked_at)
    WHERE revoked_at IS NOT NULL;

-- When the CSMS last asked a station to renew its certificate: at most once a day.
CREATE TABLE certificate_renewals (
    station_id    text PRIMARY KEY,
    requested_at  timestamptz NOT NULL,
    outcome       text NOT NULL
);
