-- +goose Up
-- A service status row is written only by the statement that upserts its audit record (see
-- upsertBatchSQL), so the record always exists. The foreign key check (a lookup and a lock on
-- the record per status row) cost about a third of every upsert, and no record is ever
-- deleted, so the constraint goes; the primary key keeps one row per remediation and service.
ALTER TABLE service_crd_status DROP CONSTRAINT service_crd_status_remediation_name_fkey;

-- +goose Down
ALTER TABLE service_crd_status ADD CONSTRAINT service_crd_status_remediation_name_fkey
    FOREIGN KEY (remediation_name) REFERENCES remediation_audit (remediation_name) ON DELETE CASCADE;
