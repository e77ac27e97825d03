-- +goose Up
-- The evidence of a remediation's outcome (issue 25): when the change was made, the window, each
-- check (signal, alertmanager, cluster) with what it saw, and the conclusion. Null for records
-- that never reached Verifying.
ALTER TABLE remediation_audit ADD COLUMN verification jsonb;

-- Effectiveness counts verified outcomes only (Remediated, Ineffective) and shows Inconclusive.
DROP INDEX remediation_audit_effectiveness_idx;
CREATE INDEX remediation_audit_effectiveness_idx ON remediation_audit (signal_name)
    WHERE overall_phase = 'Completed' AND outcome IN ('Remediated', 'Ineffective', 'Inconclusive');

-- +goose Down
DROP INDEX remediation_audit_effectiveness_idx;
CREATE INDEX remediation_audit_effectiveness_idx ON remediation_audit (signal_name)
    WHERE overall_phase IN ('Completed', 'Failed', 'TimedOut');
ALTER TABLE remediation_audit DROP COLUMN verification;
