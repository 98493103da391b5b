-- A PublishFirmwareStatusNotification without a requestId was kept under request_id -1, which a
-- station may send as well (requestId is any integer): a status with requestId -1 and one
-- without were one row. The marker moves outside OCPP's 32-bit integers. Rows kept under -1
-- until now were read as "no requestId", and stay so.
ALTER TABLE firmware_publications ALTER COLUMN request_id TYPE bigint;
UPDATE firmware_publications SET request_id = -4294967296 WHERE request_id = -1;
