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
	// VerificationWindow is how long after the change Verifying gathers evidence (the alert's
	// resolution or re-fire, the cluster checks) before it concludes: long enough for an alert
	// whose expression looks back 5 minutes ([5m], max_over_time) to clear after a good fix,
	// for Prometheus to evaluate it again and for Alertmanager's group_interval (5m by default)
	// to deliver the resolved notification.
	VerificationWindow time.Duration
	// VerificationWindowFor overrides VerificationWindow per alert name (spec.signalName).
	VerificationWindowFor map[string]time.Duration
	// VerificationInterval is how often the cluster checks are repeated within the window.
	VerificationInterval time.Duration
	// StabilizationWindow is the deprecated name of VerificationWindow: when positive it
	// replaces VerificationWindow (the default for every alert name without its own window).
	//
	// Deprecated: use VerificationWindow.
	StabilizationWindow time.Duration
	// Alertmanager, when set, is asked at the end of the window whether the alert is still
	// active for the request's target (Config.AlertmanagerURL builds one in the command).
	Alertmanager AlertQuerier
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
		VerificationWindow:      15 * time.Minute,
		VerificationInterval:    30 * time.Second,
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
		"verification window": c.verificationWindow(), "verification interval": c.VerificationInterval,
	} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, not %s", name, d))
		}
	}
	if c.StabilizationWindow < 0 {
		errs = append(errs, fmt.Errorf("stabilization window must not be negative, not %s", c.StabilizationWindow))
	}
	for name, d := range c.VerificationWindowFor {
		if name == "" || d <= 0 {
			errs = append(errs, fmt.Errorf("the verification window of alert %q must be positive, not %s", name, d))
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

// verificationWindow is the default window: VerificationWindow, or the deprecated
// StabilizationWindow when that is set.
func (c Config) verificationWindow() time.Duration {
	if c.StabilizationWindow > 0 {
		return c.StabilizationWindow
	}
	return c.VerificationWindow
}

// WindowFor is the verification window of an alert name.
func (c Config) WindowFor(signalName string) time.Duration {
	if d, ok := c.VerificationWindowFor[signalName]; ok && d > 0 {
		return d
	}
	return c.verificationWindow()
}

func (c Config) verificationInterval() time.Duration {
	if c.VerificationInterval <= 0 {
		return 30 * time.Second
	}
	return c.VerificationInterval
}

// Escalator sends escalations to the notification service.
type Escalator interface {
	SendEscalation(ctx context.Context, req notificationapi.EscalationRequest) (notificationapi.EscalationResponse, error)
}

// Auditor posts audit records to datastorage.
type Auditor interface {
	PostRemediation(ctx context.Context, a auditapi.RemediationAudit) error
}
