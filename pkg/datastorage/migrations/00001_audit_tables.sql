-- +goose Up
CREATE TABLE remediation_audit (
    id                bigint GENERATED ALWAYS AS IDENTITY NOT NULL UNIQUE,
    remediation_name  text PRIMARY KEY,
    alert_fingerprint text NOT NULL,
    namespace         text NOT NULL DEFAULT '',
    signal_name       text NOT NULL DEFAULT '',
    severity          text NOT NULL DEFAULT '',
    environment       text NOT NULL DEFAULT '',
    priority          text NOT NULL DEFAULT '',
    target_resource   text NOT NULL DEFAULT '',
    overall_phase     text NOT NULL,
    outcome           text NOT NULL DEFAULT '',
    start_time        timestamptz NOT NULL,
    completion_time   timestamptz,
    timeout_phase     text,
    failure_reason    text,
    approval          jsonb,
    operations        jsonb NOT NULL DEFAULT '[]',
    phase_sequence    bigint NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Listing is newest first (id descending) with optional filters; the cursor is the last id seen.
CREATE INDEX remediation_audit_fingerprint_idx ON remediation_audit (alert_fingerprint, id DESC);
CREATE INDEX remediation_audit_phase_idx ON remediation_audit (overall_phase, id DESC);
CREATE INDEX remediation_audit_start_time_idx ON remediation_audit (start_time);
-- Effectiveness: finished records of a signal that ran an action.
CREATE INDEX remediation_audit_effectiveness_idx ON remediation_audit (signal_name)
    WHERE overall_phase IN ('Completed', 'Failed', 'TimedOut');
CREATE INDEX remediation_audit_operations_idx ON remediation_audit USING gin (operations jsonb_path_ops);

CREATE TABLE service_crd_status (
    remediation_name text NOT NULL REFERENCES remediation_audit (remediation_name) ON DELETE CASCADE,
    service_type     text NOT NULL,
    crd_name         text NOT NULL,
    phase            text NOT NULL,
    start_time       timestamptz NOT NULL,
    completion_time  timestamptz,
    phase_sequence   bigint NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (remediation_name, service_type)
);

-- +goose Down
DROP TABLE service_crd_status;
DROP TABLE remediation_audit;
