package processing

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/processing/classify"
	"github.com/kubernaut/kubernaut/pkg/shared/text"
)

// PolicyStore holds the classification policy in force. It reads the policy ConfigMap from the
// cache whenever the ConfigMap changes (and before the first classification): a valid policy
// replaces the current one, an invalid one is refused with a Warning event on the ConfigMap and
// the last good one stays; no ConfigMap means the built-in policy.
type PolicyStore struct {
	Reader    client.Reader
	Recorder  events.EventRecorder
	Namespace string
	Name      string

	mu      sync.Mutex
	current *classify.Policy
	seen    string // resourceVersion last examined, good or bad
}

// Current returns the policy in force after syncing with the cached ConfigMap (a cache read
// and a resourceVersion comparison when nothing changed), so a classification never uses a
// policy older than the cache's.
func (s *PolicyStore) Current(ctx context.Context) (*classify.Policy, error) {
	if err := s.Sync(ctx); err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.current != nil { // the cache is still warming up or unreadable: keep the last policy
			return s.current, nil
		}
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current, nil
}

// Sync reads the ConfigMap and loads it when it changed.
func (s *PolicyStore) Sync(ctx context.Context) error {
	cm := &corev1.ConfigMap{}
	err := s.Reader.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: s.Name}, cm)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("reading the policy ConfigMap %s/%s: %w", s.Namespace, s.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	logger := log.FromContext(ctx).WithValues("configMap", s.Namespace+"/"+s.Name)
	if apierrors.IsNotFound(err) {
		if s.current == nil || s.current.Version != classify.DefaultVersion {
			if s.current != nil {
				policyReloads.WithLabelValues("removed").Inc()
				logger.Info("Policy ConfigMap removed: using the built-in policy")
			}
			s.current = classify.Default()
		}
		s.seen = ""
		return nil
	}
	if cm.ResourceVersion == s.seen {
		return nil
	}
	s.seen = cm.ResourceVersion
	if s.current == nil {
		s.current = classify.Default()
	}
	doc, ok := cm.Data[classify.PolicyKey]
	var p *classify.Policy
	if !ok {
		err = fmt.Errorf("the ConfigMap has no %s key", classify.PolicyKey)
	} else {
		p, err = classify.Parse([]byte(doc), cm.ResourceVersion)
	}
	if err != nil {
		policyReloads.WithLabelValues("invalid").Inc()
		note := fmt.Sprintf("Policy refused; policy version %s stays in force: %v", s.current.Version, err)
		logger.Info("Policy refused", "version", cm.ResourceVersion, "kept", s.current.Version, "error", err.Error())
		if s.Recorder != nil {
			s.Recorder.Eventf(cm, nil, corev1.EventTypeWarning, processingv1.EventReasonPolicyInvalid, "LoadPolicy", "%s", text.TruncateBytes(note, 1000))
		}
		return nil
	}
	s.current = p
	policyReloads.WithLabelValues("loaded").Inc()
	logger.Info("Policy loaded", "version", p.Version)
	if s.Recorder != nil {
		s.Recorder.Eventf(cm, nil, corev1.EventTypeNormal, processingv1.EventReasonPolicyLoaded, "LoadPolicy", "Policy version %s loaded", p.Version)
	}
	return nil
}

// Reconcile is the policy ConfigMap's controller: every change of it syncs the store.
func (s *PolicyStore) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	return reconcile.Result{}, s.Sync(ctx)
}
