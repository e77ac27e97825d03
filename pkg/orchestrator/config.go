package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/notificationapi"
)

// Timeouts are the default per-phase and overall timeouts; a request's spec.timeouts overrides them.
type Timeouts struct {
	Processing       time.Duration
	Analysis         time.Duration
	AwaitingApproval time.Duration
	Planning         time.Duration
	Execution        time.Duration
	Overall          time.Duration
}

// DefaultTimeouts are the contract's defaults.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Processing:       5 * time.Minute,
		Analysis:         10 * time.Minute,
		AwaitingApproval: 15 * time.Minute,
		Planning:         20 * time.Minute,
		Execution:        10 * time.Minute,
		Overall:          time.Hour,
	}
}

// Config tunes the orchestrator.
type Config struct {
	// Namespace is the system namespace holding requests and children.
	Namespace string
	// Timeouts are the defaults per phase and overall.
	Timeouts Timeouts
	// StabilizationWindow is how long Verifying waits for the signal to resolve before declaring success.
	StabilizationWindow time.Duration
	// MaxActive caps concurrently active remediations (0 = no cap).
	MaxActive int
	// MaxActivePerNamespace caps active remediations per target namespace (0 = no cap).
	MaxActivePerNamespace int
	// FailureThreshold is the number of consecutive failures that blocks a fingerprint (0 disables it).
	FailureThreshold int
	// FailureBlock is how long a fingerprint stays blocked.
	FailureBlock time.Duration
	// Retention is how long terminal requests are kept (0 keeps them forever).
	Retention time.Duration
	// RetentionSweep is how often expired requests that no reconcile is waiting for (settled
	// requests skipped at start-up) are looked for; 0 means one minute.
	RetentionSweep time.Duration
	// DryRun makes every remediation plan and dry-run its operations without changing anything.
	DryRun bool
	// MaxConcurrentReconciles is the number of requests reconciled in parallel. A reconcile that
	// moves a request forward waits on about four round trips (a live read, a child create, the
	// audit post, the status patch), so at 20 remediations/s and 25 ms per round trip about 12
	// workers are busy: the default leaves headroom.
	MaxConcurrentReconciles int
	// RetryMaxBackoff caps the backoff between retries of unavailable services (audit, escalation).
	RetryMaxBackoff time.Duration
	// BlockedRecheck is the fallback interval at which Blocked requests look for room again.
	BlockedRecheck time.Duration
	// AuditFlushOnDelete bounds how long a deleted request waits for its audit outbox to reach
	// datastorage (remediationv1.FinalizerAudit) before it is deleted anyway.
	AuditFlushOnDelete time.Duration
}

// DefaultConfig returns the defaults of the contract.
func DefaultConfig() Config {
	return Config{
		Namespace:               "kubernaut-system",
		Timeouts:                DefaultTimeouts(),
		StabilizationWindow:     5 * time.Minute,
		MaxActive:               50,
		MaxActivePerNamespace:   10,
		FailureThreshold:        3,
		FailureBlock:            time.Hour,
		Retention:               24 * time.Hour,
		MaxConcurrentReconciles: 16,
		BlockedRecheck:          30 * time.Second,
		RetryMaxBackoff:         30 * time.Second,
		AuditFlushOnDelete:      10 * time.Minute,
	}
}

// Validate reports every invalid setting.
func (c Config) Validate() error {
	var errs []error
	for name, d := range map[string]time.Duration{
		"processing timeout": c.Timeouts.Processing, "analysis timeout": c.Timeouts.Analysis,
		"awaiting-approval timeout": c.Timeouts.AwaitingApproval, "planning timeout": c.Timeouts.Planning,
		"execution timeout": c.Timeouts.Execution, "overall timeout": c.Timeouts.Overall,
		"stabilization window": c.StabilizationWindow,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, not %s", name, d))
		}
	}
	if c.MaxActive < 0 || c.MaxActivePerNamespace < 0 || c.FailureThreshold < 0 {
		errs = append(errs, errors.New("caps and thresholds must not be negative"))
	}
	if c.FailureThreshold > 0 && c.FailureBlock <= 0 {
		errs = append(errs, errors.New("failure block duration must be positive when a failure threshold is set"))
	}
	if c.Retention < 0 {
		errs = append(errs, errors.New("retention must not be negative"))
	}
	if c.RetryMaxBackoff < 100*time.Millisecond {
		errs = append(errs, errors.New("retry max backoff must be at least 100ms"))
	}
	if c.AuditFlushOnDelete < 0 {
		errs = append(errs, errors.New("audit flush on delete must not be negative"))
	}
	if c.MaxConcurrentReconciles < 1 {
		errs = append(errs, errors.New("max concurrent reconciles must be at least 1"))
	}
	return errors.Join(errs...)
}

// Escalator sends escalations to the notification service.
type Escalator interface {
	SendEscalation(ctx context.Context, req notificationapi.EscalationRequest) (notificationapi.EscalationResponse, error)
}

// Auditor posts audit records to datastorage.
type Auditor interface {
	PostRemediation(ctx context.Context, a auditapi.RemediationAudit) error
}
