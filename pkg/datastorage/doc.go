// Package datastorage keeps Kubernaut's audit trail in PostgreSQL behind an HTTP API: one
// RemediationAudit record per remediation (table remediation_audit) with the status of each
// child resource (table service_crd_status), the list and read API, and the historical
// effectiveness of actions per signal that AI analysis asks for.
//
// Writes are idempotent upserts by remediationName, so retries are harmless; a record or service
// status never replaces one posted with a higher phaseSequence, so phase changes that arrive out
// of order cannot move a remediation backwards. Schema migrations are embedded and applied under
// a PostgreSQL advisory lock at start.
//
// Concurrent upserts are grouped: at most Store's writer count of statements are in flight, and
// each writes every queued record of distinct remediations (up to 64) with one statement, so
// PostgreSQL's per-statement and per-commit costs are shared under load while a lone caller
// still writes at once. Each caller is answered only after the statement holding its record
// committed; a statement that fails as a whole is retried record by record, so one record the
// database refuses fails alone.
//
// Metrics (controller-runtime's metrics.Registry):
//   - kubernaut_datastorage_http_requests_total{route,method,code}: API requests.
//   - kubernaut_datastorage_http_request_duration_seconds{route}: API latency.
//   - kubernaut_datastorage_db_query_duration_seconds{query,result}: database call latency.
//   - kubernaut_datastorage_upsert_batch_records: records per upsert statement.
//   - kubernaut_datastorage_upsert_batch_retries_total: statements retried record by record.
//   - kubernaut_datastorage_db_pool_connections{state}: pool connections (acquired, idle,
//     constructing, max).
//   - kubernaut_datastorage_db_pool_acquires_total, kubernaut_datastorage_db_pool_acquire_waits_total,
//     kubernaut_datastorage_db_pool_acquire_wait_seconds_total: pool usage.
package datastorage
