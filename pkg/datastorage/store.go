package datastorage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

// ErrNotFound reports a remediation without an audit record.
var ErrNotFound = errors.New("audit record not found")

// Store keeps audit records in PostgreSQL.
type Store struct {
	pool   *pgxpool.Pool
	writer *writer
	// WriteTimeout bounds one batch write (default 10s).
	WriteTimeout time.Duration
}

// NewStore wraps a connection pool (see OpenPool). writers bounds the concurrent batch writes
// of upserts (<= 0: DefaultWriters); it should stay below the pool size so reads find a
// connection.
func NewStore(pool *pgxpool.Pool, writers int) *Store {
	return &Store{pool: pool, writer: newWriter(writers)}
}

// OpenPool creates a connection pool for dsn (empty: the PG* environment variables). It does not
// connect yet, so a service can start before its database. maxConns <= 0 keeps pgx's default.
func OpenPool(ctx context.Context, dsn string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing the database URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 5*time.Second {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	cfg.HealthCheckPeriod = 10 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating the connection pool: %w", err)
	}
	trackPool(pool)
	return pool, nil
}

// ClosePool closes a pool made by OpenPool.
func ClosePool(pool *pgxpool.Pool) {
	untrackPool(pool)
	pool.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return observe("ping", func() error { return s.pool.Ping(ctx) })
}

// UpsertResult says what an upsert did.
type UpsertResult string

// Upsert results.
const (
	// Created: the first record of this remediation.
	Created UpsertResult = "created"
	// Updated: the record was replaced by one with the same or a newer phaseSequence.
	Updated UpsertResult = "updated"
	// Stale: a newer phase was already stored; only service statuses that are newer than the
	// stored ones were applied.
	Stale UpsertResult = "stale"
)

// UpsertRemediation stores a record idempotently by remediationName: the record and its service
// statuses are written by one statement. Concurrent writers of one remediation queue on its
// row, and a record or status never replaces one written with a higher phaseSequence.
// Concurrent calls are grouped into batches (see writer.go).
func (s *Store) UpsertRemediation(ctx context.Context, a *auditapi.RemediationAudit) (UpsertResult, error) {
	return s.upsert(ctx, a)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

const selectColumns = `id, remediation_name, alert_fingerprint, namespace, signal_name, severity, environment,
    priority, target_resource, overall_phase, outcome, start_time, completion_time, timeout_phase,
    failure_reason, approval, operations, phase_sequence, verification`

func scanAudit(row pgx.Row) (int64, *auditapi.RemediationAudit, error) {
	var (
		id             int64
		a              auditapi.RemediationAudit
		approval, ops  []byte
		verification   []byte
		completionTime *time.Time
	)
	if err := row.Scan(&id, &a.RemediationName, &a.AlertFingerprint, &a.Namespace, &a.SignalName, &a.Severity,
		&a.Environment, &a.Priority, &a.TargetResource, &a.OverallPhase, &a.Outcome, &a.StartTime,
		&completionTime, &a.TimeoutPhase, &a.FailureReason, &approval, &ops, &a.PhaseSequence, &verification); err != nil {
		return 0, nil, err
	}
	a.StartTime = a.StartTime.UTC()
	if completionTime != nil {
		t := completionTime.UTC()
		a.CompletionTime = &t
	}
	if approval != nil {
		a.Approval = &auditapi.ApprovalRecord{}
		if err := json.Unmarshal(approval, a.Approval); err != nil {
			return 0, nil, fmt.Errorf("decoding the approval of %s: %w", a.RemediationName, err)
		}
	}
	if verification != nil {
		a.Verification = &auditapi.VerificationRecord{}
		if err := json.Unmarshal(verification, a.Verification); err != nil {
			return 0, nil, fmt.Errorf("decoding the verification of %s: %w", a.RemediationName, err)
		}
	}
	if err := json.Unmarshal(ops, &a.Operations); err != nil {
		return 0, nil, fmt.Errorf("decoding the operations of %s: %w", a.RemediationName, err)
	}
	if len(a.Operations) == 0 {
		a.Operations = nil
	}
	a.ServiceCRDStatuses = []auditapi.ServiceCRDStatus{}
	return id, &a, nil
}

// GetRemediation returns one record with its service statuses, or ErrNotFound.
func (s *Store) GetRemediation(ctx context.Context, name string) (*auditapi.RemediationAudit, error) {
	var a *auditapi.RemediationAudit
	err := observe("get_remediation", func() error {
		var err error
		_, a, err = scanAudit(s.pool.QueryRow(ctx, `SELECT `+selectColumns+` FROM remediation_audit WHERE remediation_name = $1`, name))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("reading the audit record of %s: %w", name, err)
	}
	if err := s.attachStatuses(ctx, []*auditapi.RemediationAudit{a}); err != nil {
		return nil, err
	}
	return a, nil
}

// pipelineOrder orders service statuses that started together.
var pipelineOrder = []string{"RemediationProcessing", "AIAnalysis", "AIApprovalRequest", "WorkflowExecution", "KubernetesExecution", "NotificationRequest"}

func (s *Store) attachStatuses(ctx context.Context, records []*auditapi.RemediationAudit) error {
	if len(records) == 0 {
		return nil
	}
	byName := make(map[string]*auditapi.RemediationAudit, len(records))
	names := make([]string, 0, len(records))
	for _, r := range records {
		byName[r.RemediationName] = r
		names = append(names, r.RemediationName)
	}
	err := observe("list_service_statuses", func() error {
		rows, err := s.pool.Query(ctx, `SELECT remediation_name, service_type, crd_name, phase, start_time, completion_time
FROM service_crd_status WHERE remediation_name = ANY($1)
ORDER BY remediation_name, start_time, array_position($2::text[], service_type), service_type`, names, pipelineOrder)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var st auditapi.ServiceCRDStatus
			if err := rows.Scan(&name, &st.ServiceType, &st.CRDName, &st.Phase, &st.StartTime, &st.CompletionTime); err != nil {
				return err
			}
			st.StartTime = st.StartTime.UTC()
			if st.CompletionTime != nil {
				t := st.CompletionTime.UTC()
				st.CompletionTime = &t
			}
			r := byName[name]
			r.ServiceCRDStatuses = append(r.ServiceCRDStatuses, st)
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("reading service statuses: %w", err)
	}
	return nil
}

// ListQuery selects audit records; empty fields do not filter.
type ListQuery struct {
	Fingerprint string
	Phase       string
	// Since and Until bound startTime: Since <= startTime < Until.
	Since, Until *time.Time
	// Limit is the page size.
	Limit int
	// Cursor continues after the last record of the previous page ("" starts at the newest).
	Cursor string
}

// ListPage is one page of records, newest first.
type ListPage struct {
	Items []*auditapi.RemediationAudit `json:"items"`
	// NextCursor fetches the next page; empty on the last page.
	NextCursor string `json:"nextCursor,omitempty"`
}

// ErrBadCursor reports a cursor this service did not issue.
var ErrBadCursor = errors.New("cursor is not valid")

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("id:" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, ErrBadCursor
	}
	v, ok := strings.CutPrefix(string(raw), "id:")
	if !ok {
		return 0, ErrBadCursor
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrBadCursor
	}
	return id, nil
}

// ListRemediations returns the records matching q, newest first (by arrival of their first
// record). The cursor is keyed on an id that never changes, so paging is stable while records
// are added or updated: no record is returned twice and none that existed when paging started
// is skipped.
func (s *Store) ListRemediations(ctx context.Context, q ListQuery) (ListPage, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Fingerprint != "" {
		where = append(where, "alert_fingerprint = "+arg(q.Fingerprint))
	}
	if q.Phase != "" {
		where = append(where, "overall_phase = "+arg(q.Phase))
	}
	if q.Since != nil {
		where = append(where, "start_time >= "+arg(*q.Since))
	}
	if q.Until != nil {
		where = append(where, "start_time < "+arg(*q.Until))
	}
	if q.Cursor != "" {
		id, err := decodeCursor(q.Cursor)
		if err != nil {
			return ListPage{}, err
		}
		where = append(where, "id < "+arg(id))
	}
	sql := `SELECT ` + selectColumns + ` FROM remediation_audit`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY id DESC LIMIT " + arg(q.Limit+1)

	page := ListPage{Items: []*auditapi.RemediationAudit{}}
	var lastID int64
	err := observe("list_remediations", func() error {
		rows, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			id, a, err := scanAudit(rows)
			if err != nil {
				return err
			}
			if len(page.Items) == q.Limit {
				page.NextCursor = encodeCursor(lastID)
				break
			}
			page.Items = append(page.Items, a)
			lastID = id
		}
		return rows.Err()
	})
	if err != nil {
		return ListPage{}, fmt.Errorf("listing audit records: %w", err)
	}
	if err := s.attachStatuses(ctx, page.Items); err != nil {
		return ListPage{}, err
	}
	return page, nil
}

// Effectiveness is learnt from verified outcomes only: among the Completed records of the signal
// that ran the action for real (not as a dry run), Remediated ones are successes and Ineffective
// ones failures (together the total); Inconclusive ones are counted apart and never weigh on the
// rate. Failed and timed-out remediations, whose change was refused, rolled back or never
// verified, say nothing about whether the action fixes the signal. lastSeen is the latest
// completion among the records counted.
func (s *Store) Effectiveness(ctx context.Context, signalName, action string) (auditapi.Effectiveness, error) {
	out := auditapi.Effectiveness{SignalName: signalName, Action: action}
	err := observe("effectiveness", func() error {
		return s.pool.QueryRow(ctx, `
SELECT count(*) FILTER (WHERE outcome = 'Remediated'),
       count(*) FILTER (WHERE outcome = 'Ineffective'),
       count(*) FILTER (WHERE outcome = 'Inconclusive'),
       max(coalesce(completion_time, updated_at))
FROM remediation_audit
WHERE signal_name = $1
  AND overall_phase = 'Completed' AND outcome IN ('Remediated', 'Ineffective', 'Inconclusive')
  AND operations @> jsonb_build_array(jsonb_build_object('action', $2::text))
  AND EXISTS (SELECT 1 FROM jsonb_array_elements(operations) o
              WHERE o->>'action' = $2::text AND NOT coalesce((o->>'dryRun')::boolean, false))`,
			signalName, action).Scan(&out.Successful, &out.Ineffective, &out.Inconclusive, &out.LastSeen)
	})
	if err != nil {
		return out, fmt.Errorf("computing effectiveness of %s for %s: %w", action, signalName, err)
	}
	out.Total = out.Successful + out.Ineffective
	if out.LastSeen != nil {
		t := out.LastSeen.UTC()
		out.LastSeen = &t
	}
	if out.Total > 0 {
		out.SuccessRate = float64(out.Successful) / float64(out.Total)
	}
	return out, nil
}

// Pool returns the connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
