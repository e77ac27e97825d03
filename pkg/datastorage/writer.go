package datastorage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
)

// Writes are grouped ("group commit"): UpsertRemediation puts its record on a queue, and at
// most NewStore's writers callers at a time act as flushers, each taking everything queued (up to
// maxBatch records of distinct remediations) and writing it with one statement in one round
// trip. A lone caller finds the queue empty and a flusher slot free, so it writes its own
// record at once and waits for nobody; under concurrent load the per-statement and per-commit
// costs of PostgreSQL are shared by every record of a batch. Each caller still gets its own
// result, and is answered only after the statement holding its record committed.

// maxBatch bounds the records of one statement.
const maxBatch = 64

// DefaultWriters is the default number of concurrent batch writers.
const DefaultWriters = 2

// pending is one queued upsert. state moves from queued to taken (a flusher owns it) or to
// abandoned (its caller gave up before a flusher took it).
type pending struct {
	rec   *auditapi.RemediationAudit
	state atomic.Int32
	done  chan upsertOutcome
}

const (
	queued int32 = iota
	taken
	abandoned
)

type upsertOutcome struct {
	res UpsertResult
	err error
}

// writer is the queue and the flusher slots.
type writer struct {
	mu    sync.Mutex
	queue []*pending
	slots chan struct{}
}

func newWriter(n int) *writer {
	if n <= 0 {
		n = DefaultWriters
	}
	return &writer{slots: make(chan struct{}, n)}
}

// upsert queues rec and returns its outcome, flushing batches itself while a slot is free.
func (s *Store) upsert(ctx context.Context, rec *auditapi.RemediationAudit) (UpsertResult, error) {
	w := s.writer
	p := &pending{rec: rec, done: make(chan upsertOutcome, 1)}
	w.mu.Lock()
	w.queue = append(w.queue, p)
	w.mu.Unlock()
	for {
		if p.state.Load() == taken {
			// A flusher is writing it: its statement decides, bounded by the write timeout.
			out := <-p.done
			return out.res, out.err
		}
		select {
		case out := <-p.done:
			return out.res, out.err
		case w.slots <- struct{}{}:
			s.flush(ctx, p)
			<-w.slots
		case <-ctx.Done():
			if p.state.CompareAndSwap(queued, abandoned) {
				return "", ctx.Err()
			}
		}
	}
}

// flush writes batches from the queue until own has an outcome or the queue is empty.
func (s *Store) flush(ctx context.Context, own *pending) {
	for len(own.done) == 0 {
		batch := s.writer.take()
		if len(batch) == 0 {
			return
		}
		s.writeBatch(ctx, batch)
	}
}

// take removes up to maxBatch queued records of distinct remediations from the queue, oldest
// first. A second record of a remediation already in the batch stays queued for the next one,
// since one statement cannot upsert a row twice; between statements (of one flusher or of
// several) the phaseSequence guard decides which record of a remediation is kept.
func (w *writer) take() []*pending {
	w.mu.Lock()
	defer w.mu.Unlock()
	var (
		batch []*pending
		names = map[string]bool{}
		rest  = w.queue[:0]
	)
	for _, p := range w.queue {
		switch {
		case p.state.Load() != queued:
			// abandoned: drop it
		case len(batch) < maxBatch && !names[p.rec.RemediationName] && p.state.CompareAndSwap(queued, taken):
			names[p.rec.RemediationName] = true
			batch = append(batch, p)
		default:
			rest = append(rest, p)
		}
	}
	clear(w.queue[len(rest):])
	w.queue = rest
	return batch
}

// writeBatch writes a batch with one statement under the flusher's context (bounded by a
// timeout of its own, so one caller's cancellation does not fail the others) and answers each
// record. If the batch fails as a whole, each record is retried alone so that one bad record
// (or a deadlock between batches) cannot fail the others.
func (s *Store) writeBatch(ctx context.Context, batch []*pending) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.batchTimeout())
	defer cancel()
	recs := make([]*auditapi.RemediationAudit, len(batch))
	for i, p := range batch {
		recs[i] = p.rec
	}
	batchSize.Observe(float64(len(recs)))
	results, err := s.upsertBatch(ctx, recs)
	if err != nil && len(batch) > 1 {
		batchRetries.Inc()
		for _, p := range batch {
			res, err := s.upsertBatch(ctx, []*auditapi.RemediationAudit{p.rec})
			var r UpsertResult
			if err == nil {
				r = res[0]
			}
			p.done <- upsertOutcome{res: r, err: err}
		}
		return
	}
	for i, p := range batch {
		if err != nil {
			p.done <- upsertOutcome{err: err}
			continue
		}
		p.done <- upsertOutcome{res: results[i]}
	}
}

func (s *Store) batchTimeout() time.Duration {
	if s.WriteTimeout > 0 {
		return s.WriteTimeout
	}
	return 10 * time.Second
}

// The batch arrives as column arrays; records are upserted first (in name order, so batches
// that overlap lock rows in the same order), then their service statuses, all in one
// statement. The foreign key of a status row is checked at the end of the statement, when the
// record it refers to exists. A record is left alone when a newer phaseSequence is stored, and
// so is each status row.
const upsertBatchSQL = `
WITH rec AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
        $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[],
        $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[], $25::text[])
        AS t(remediation_name, alert_fingerprint, namespace, signal_name, severity, environment,
            priority, target_resource, overall_phase, outcome, start_time, completion_time,
            timeout_phase, failure_reason, approval, operations, phase_sequence, verification)
), up AS (
    INSERT INTO remediation_audit AS r (remediation_name, alert_fingerprint, namespace, signal_name,
        severity, environment, priority, target_resource, overall_phase, outcome, start_time,
        completion_time, timeout_phase, failure_reason, approval, operations, phase_sequence, verification)
    SELECT remediation_name, alert_fingerprint, namespace, signal_name, severity, environment,
        priority, target_resource, overall_phase, outcome, start_time, completion_time,
        timeout_phase, failure_reason, approval::jsonb, operations::jsonb, phase_sequence, verification::jsonb
    FROM rec
    ON CONFLICT (remediation_name) DO UPDATE SET
        alert_fingerprint = EXCLUDED.alert_fingerprint, namespace = EXCLUDED.namespace,
        signal_name = EXCLUDED.signal_name, severity = EXCLUDED.severity,
        environment = EXCLUDED.environment, priority = EXCLUDED.priority,
        target_resource = EXCLUDED.target_resource, overall_phase = EXCLUDED.overall_phase,
        outcome = EXCLUDED.outcome, start_time = EXCLUDED.start_time,
        completion_time = EXCLUDED.completion_time, timeout_phase = EXCLUDED.timeout_phase,
        failure_reason = EXCLUDED.failure_reason, approval = EXCLUDED.approval,
        operations = EXCLUDED.operations, phase_sequence = EXCLUDED.phase_sequence,
        verification = EXCLUDED.verification, updated_at = now()
    WHERE r.phase_sequence <= EXCLUDED.phase_sequence
    RETURNING r.remediation_name, (r.xmax = 0) AS inserted
), st AS (
    INSERT INTO service_crd_status AS c (remediation_name, service_type, crd_name, phase,
        start_time, completion_time, phase_sequence)
    SELECT * FROM unnest($18::text[], $19::text[], $20::text[], $21::text[], $22::timestamptz[],
        $23::timestamptz[], $24::bigint[])
    ON CONFLICT (remediation_name, service_type) DO UPDATE SET
        crd_name = EXCLUDED.crd_name, phase = EXCLUDED.phase, start_time = EXCLUDED.start_time,
        completion_time = EXCLUDED.completion_time, phase_sequence = EXCLUDED.phase_sequence,
        updated_at = now()
    WHERE c.phase_sequence <= EXCLUDED.phase_sequence
)
SELECT remediation_name, inserted FROM up`

// upsertBatch writes records of distinct remediations with one statement and returns the
// result of each, in order.
func (s *Store) upsertBatch(ctx context.Context, recs []*auditapi.RemediationAudit) ([]UpsertResult, error) {
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(recs[a].RemediationName, recs[b].RemediationName) })

	n := len(recs)
	var (
		name, fp, ns, signal, sev, env, prio, target, phase, outcome = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		start                                                        = make([]time.Time, n)
		completion                                                   = make([]*time.Time, n)
		timeoutPhase, failure, approval, verification                = make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
		ops                                                          = make([]string, n)
		seq                                                          = make([]int64, n)
		stName, stType, stCRD, stPhase                               []string
		stStart                                                      []time.Time
		stCompletion                                                 []*time.Time
		stSeq                                                        []int64
	)
	for j, i := range order {
		a := recs[i]
		name[j], fp[j], ns[j], signal[j], sev[j] = a.RemediationName, a.AlertFingerprint, a.Namespace, a.SignalName, a.Severity
		env[j], prio[j], target[j], phase[j], outcome[j] = a.Environment, a.Priority, a.TargetResource, a.OverallPhase, a.Outcome
		start[j], completion[j], timeoutPhase[j], failure[j], seq[j] = a.StartTime, a.CompletionTime, a.TimeoutPhase, a.FailureReason, a.PhaseSequence
		if a.Approval != nil {
			raw, err := json.Marshal(a.Approval)
			if err != nil {
				return nil, fmt.Errorf("encoding the approval of %s: %w", a.RemediationName, err)
			}
			v := string(raw)
			approval[j] = &v
		}
		if a.Verification != nil {
			raw, err := json.Marshal(a.Verification)
			if err != nil {
				return nil, fmt.Errorf("encoding the verification of %s: %w", a.RemediationName, err)
			}
			v := string(raw)
			verification[j] = &v
		}
		raw, err := json.Marshal(nonNil(a.Operations))
		if err != nil {
			return nil, fmt.Errorf("encoding the operations of %s: %w", a.RemediationName, err)
		}
		ops[j] = string(raw)
		sts := slices.Clone(a.ServiceCRDStatuses)
		slices.SortFunc(sts, func(x, y auditapi.ServiceCRDStatus) int { return strings.Compare(x.ServiceType, y.ServiceType) })
		for _, st := range sts {
			stName = append(stName, a.RemediationName)
			stType = append(stType, st.ServiceType)
			stCRD = append(stCRD, st.CRDName)
			stPhase = append(stPhase, st.Phase)
			stStart = append(stStart, st.StartTime)
			stCompletion = append(stCompletion, st.CompletionTime)
			stSeq = append(stSeq, a.PhaseSequence)
		}
	}
	written := make(map[string]bool, n)
	err := observe("upsert_remediation", func() error {
		rows, err := s.pool.Query(ctx, upsertBatchSQL, name, fp, ns, signal, sev, env, prio, target, phase, outcome,
			start, completion, timeoutPhase, failure, approval, ops, seq,
			stName, stType, stCRD, stPhase, stStart, stCompletion, stSeq, verification)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var nm string
			var inserted bool
			if err := rows.Scan(&nm, &inserted); err != nil {
				return err
			}
			written[nm] = inserted
		}
		return rows.Err()
	})
	if err != nil {
		if len(recs) == 1 {
			return nil, fmt.Errorf("upserting the audit record of %s: %w", recs[0].RemediationName, err)
		}
		return nil, fmt.Errorf("upserting %d audit records: %w", len(recs), err)
	}
	out := make([]UpsertResult, len(recs))
	for i, a := range recs {
		inserted, ok := written[a.RemediationName]
		switch {
		case !ok:
			out[i] = Stale
		case inserted:
			out[i] = Created
		default:
			out[i] = Updated
		}
	}
	return out, nil
}
