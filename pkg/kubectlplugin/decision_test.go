package kubectlplugin_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/plugintest"
	"github.com/kubernaut/kubernaut/internal/testutil/syncbuf"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
)

// approverRules and viewerRules are the rules of the ClusterRoles deploy/base ships for people
// who decide approvals and who only follow remediations (rbac/approver.yaml, rbac/viewer.yaml);
// the tests bind them in a namespace.
var (
	approverRules = plugintest.ApproverRules
	viewerRules   = plugintest.ViewerRules
)

// asUser returns a config acting as user, bound in ns to a Role with rules (none when nil).
func asUser(t *testing.T, ns, user string, rules []rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	return plugintest.AsUser(t, env, ns, user, rules)
}

var policiesOnce sync.Once

// applyDecisionPolicy installs deploy/base/policies (the admission policy that refuses a
// decidedBy other than the caller) and waits until it refuses a forged decision.
func applyDecisionPolicy(t *testing.T) {
	t.Helper()
	policiesOnce.Do(func() {
		dir := filepath.Join(testenv.RepoRoot(), "deploy", "base", "policies")
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		require.NoError(t, err)
		if len(files) == 0 {
			t.Logf("no admission policy in %s: decidedBy is not enforced by the API server in this run", dir)
			return
		}
		ctx := context.Background()
		for _, f := range files {
			env.ApplyFile(t, f)
		}
		// Wait until the policy is in force: a forged decidedBy is refused.
		ns := env.Namespace(t, nil)
		ar := pendingApprovalFixture(t, ns, "probe", time.Now().Add(time.Hour))
		forger := asUser(t, ns, "forger", approverRules)
		c, err := client.New(forger, client.Options{Scheme: env.Client.Scheme()})
		require.NoError(t, err)
		assert.EventuallyWithT(t, func(ct *assert.CollectT) {
			var cur aiv1.AIApprovalRequest
			if !assert.NoError(ct, env.Client.Get(ctx, client.ObjectKeyFromObject(ar), &cur)) {
				return
			}
			orig := cur.DeepCopy()
			cur.Status.Decision, cur.Status.DecidedBy = aiv1.DecisionApproved, "someone-else"
			err := c.Status().Patch(ctx, &cur, client.MergeFrom(orig))
			assert.True(ct, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), "a forged decidedBy must be refused, got %v", err)
		}, 30*time.Second, 200*time.Millisecond)
	})
}

// pendingApprovalFixture creates a request awaiting approval whose AIApprovalRequest is due at
// requiredBy, and returns the AIApprovalRequest.
func pendingApprovalFixture(t *testing.T, ns, name string, requiredBy time.Time) *aiv1.AIApprovalRequest {
	t.Helper()
	rr := request(ns, name, remediationv1.PhaseAwaitingApproval, offApproval, 0)
	arName := name + "-ask-a-human" // any name: the plugin follows status.approval.approvalRequestRef
	aia := analysis(rr, aiv1.PhaseApproving, arName)
	ar := approvalRequest(rr, arName, metav1.NewTime(requiredBy.UTC().Truncate(time.Second)))
	(&world{objs: []client.Object{rr, aia, ar}}).create(t, env.Client)
	return ar
}

type snapshot struct {
	rr  remediationv1.RemediationRequest
	aia aiv1.AIAnalysis
	ar  aiv1.AIApprovalRequest
}

func snap(t *testing.T, ar *aiv1.AIApprovalRequest) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ar.Namespace, Name: ar.Spec.RemediationRequestRef.Name}, &s.rr))
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ar.Namespace, Name: ar.Spec.AIAnalysisRef.Name}, &s.aia))
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(ar), &s.ar))
	return s
}

// assertOnlyDecisionChanged checks that the request and the analysis are untouched and that
// the approval request changed in its decision fields only.
func assertOnlyDecisionChanged(t *testing.T, before, after snapshot) {
	t.Helper()
	assert.Equal(t, before.rr.ResourceVersion, after.rr.ResourceVersion, "the RemediationRequest must not change")
	assert.Equal(t, before.aia.ResourceVersion, after.aia.ResourceVersion, "the AIAnalysis must not change")
	assert.Empty(t, cmp.Diff(before.ar.Spec, after.ar.Spec), "the AIApprovalRequest spec must not change")
	assert.Equal(t, before.ar.Labels, after.ar.Labels)
	assert.Equal(t, before.ar.Annotations, after.ar.Annotations)
	want := before.ar.Status
	got := after.ar.Status
	got.Decision, got.DecidedBy, got.DecidedAt, got.Message = want.Decision, want.DecidedBy, want.DecidedAt, want.Message
	assert.Empty(t, cmp.Diff(want, got), "only decision, decidedBy, decidedAt and message may change")
}

func TestDecision(t *testing.T) {
	applyDecisionPolicy(t)
	now := func() time.Time { return time.Now() }

	t.Run("approve as alice records decidedBy alice and changes nothing else", func(t *testing.T) {
		ns := env.Namespace(t, nil)
		ar := pendingApprovalFixture(t, ns, "rr-approve", time.Now().Add(15*time.Minute))
		before := snap(t, ar)
		alice := asUser(t, ns, "alice", approverRules)
		started := time.Now().Add(-time.Second)
		res := run(t, invocation{cfg: alice, now: now}, "approve", "rr-approve", "-n", ns, "--reason", "checked the dashboard")
		require.Equal(t, kubectlplugin.ExitOK, res.code, "%v %s", res.err, res.stderr)
		assert.Contains(t, res.stdout, "Approved")
		after := snap(t, ar)
		assert.Equal(t, aiv1.DecisionApproved, after.ar.Status.Decision)
		assert.Equal(t, "alice", after.ar.Status.DecidedBy)
		assert.Equal(t, "checked the dashboard", after.ar.Status.Message)
		if assert.NotNil(t, after.ar.Status.DecidedAt) {
			assert.False(t, after.ar.Status.DecidedAt.Time.Before(started.Truncate(time.Second)))
		}
		assertOnlyDecisionChanged(t, before, after)
	})

	t.Run("reject as bob with -o json", func(t *testing.T) {
		ns := env.Namespace(t, nil)
		ar := pendingApprovalFixture(t, ns, "rr-reject", time.Now().Add(15*time.Minute))
		before := snap(t, ar)
		bob := asUser(t, ns, "bob", approverRules)
		res := run(t, invocation{cfg: bob, now: now}, "reject", "rr-reject", "-n", ns, "--reason", "not during the sale", "-o", "json")
		require.Equal(t, kubectlplugin.ExitOK, res.code, "%v %s", res.err, res.stderr)
		var printed aiv1.AIApprovalRequest
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &printed))
		assert.Equal(t, aiv1.DecisionRejected, printed.Status.Decision)
		after := snap(t, ar)
		assert.Equal(t, aiv1.DecisionRejected, after.ar.Status.Decision)
		assert.Equal(t, "bob", after.ar.Status.DecidedBy)
		assert.Equal(t, "not during the sale", after.ar.Status.Message)
		assertOnlyDecisionChanged(t, before, after)
	})

	t.Run("reject without --reason is a usage error and changes nothing", func(t *testing.T) {
		ns := env.Namespace(t, nil)
		ar := pendingApprovalFixture(t, ns, "rr-noreason", time.Now().Add(15*time.Minute))
		before := snap(t, ar)
		res := run(t, invocation{cfg: asUser(t, ns, "carol", approverRules), now: now}, "reject", "rr-noreason", "-n", ns)
		assert.Equal(t, kubectlplugin.ExitUsage, res.code, "%v", res.err)
		after := snap(t, ar)
		assert.Equal(t, before.ar.ResourceVersion, after.ar.ResourceVersion)
	})
}

func TestDecisionRefusals(t *testing.T) {
	applyDecisionPolicy(t)
	ctx := context.Background()
	cases := map[string]struct {
		// setup creates the fixture in ns and returns the request name and the approval request, if any.
		setup   func(t *testing.T, ns string) (string, *aiv1.AIApprovalRequest)
		user    string
		rules   []rbacv1.PolicyRule
		args    []string
		code    int
		message string
	}{
		"nothing pending: the analysis needed no approval": {
			setup: func(t *testing.T, ns string) (string, *aiv1.AIApprovalRequest) {
				rr := request(ns, "rr-auto", remediationv1.PhasePlanning, offPlanning, 0)
				aia := analysis(rr, aiv1.PhaseCompleted, "")
				(&world{objs: []client.Object{rr, aia}}).create(t, env.Client)
				return "rr-auto", nil
			},
			user: "alice", rules: approverRules, code: kubectlplugin.ExitNotPending, message: "no approval request",
		},
		"nothing pending: no analysis yet": {
			setup: func(t *testing.T, ns string) (string, *aiv1.AIApprovalRequest) {
				rr := request(ns, "rr-early", remediationv1.PhaseProcessing, offProcessing, 0)
				(&world{objs: []client.Object{rr}}).create(t, env.Client)
				return "rr-early", nil
			},
			user: "alice", rules: approverRules, code: kubectlplugin.ExitNotPending, message: "no analysis yet",
		},
		"nothing pending: already decided": {
			setup: func(t *testing.T, ns string) (string, *aiv1.AIApprovalRequest) {
				ar := pendingApprovalFixture(t, ns, "rr-decided", time.Now().Add(15*time.Minute))
				decided := ar.DeepCopy()
				decided.Status.Decision, decided.Status.DecidedBy, decided.Status.DecidedAt = aiv1.DecisionRejected, "dave", &metav1.Time{Time: time.Now().Truncate(time.Second)}
				require.NoError(t, asUserClient(t, asUser(t, ns, "dave", approverRules)).Status().Patch(ctx, decided, client.MergeFrom(ar)))
				return "rr-decided", decided
			},
			user: "alice", rules: approverRules, args: []string{"--reason", "too late"}, code: kubectlplugin.ExitNotPending, message: "already decided: Rejected by dave",
		},
		"expired: requiredBy has passed": {
			setup: func(t *testing.T, ns string) (string, *aiv1.AIApprovalRequest) {
				return "rr-expired", pendingApprovalFixture(t, ns, "rr-expired", time.Now().Add(-time.Minute))
			},
			user: "alice", rules: approverRules, code: kubectlplugin.ExitNotPending, message: "expired",
		},
		"unknown request": {
			setup: func(t *testing.T, ns string) (string, *aiv1.AIApprovalRequest) { return "rr-nonexistent", nil },
			user:  "alice", rules: approverRules, code: kubectlplugin.ExitNotFound, message: `"rr-nonexistent" not found`,
		},
		"forbidden: a user without any rights": {
			setup: func(t *testing.T, ns string) (string, *aiv1.AIApprovalRequest) {
				return "rr-mallory", pendingApprovalFixture(t, ns, "rr-mallory", time.Now().Add(15*time.Minute))
			},
			user: "mallory", code: kubectlplugin.ExitForbidden, message: "forbidden",
		},
		"forbidden: a user who may read but not decide": {
			setup: func(t *testing.T, ns string) (string, *aiv1.AIApprovalRequest) {
				return "rr-viewer", pendingApprovalFixture(t, ns, "rr-viewer", time.Now().Add(15*time.Minute))
			},
			user: "victor", rules: viewerRules, code: kubectlplugin.ExitForbidden, message: "forbidden",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ns := env.Namespace(t, nil)
			rrName, ar := tc.setup(t, ns)
			var before snapshot
			if ar != nil {
				before = snap(t, ar)
			}
			cfg := asUser(t, ns, tc.user, tc.rules)
			for _, verb := range []string{"approve", "reject"} {
				args := append([]string{verb, rrName, "-n", ns, "--reason", "because"}, tc.args...)
				res := run(t, invocation{cfg: cfg, now: time.Now}, args...)
				assert.Equal(t, tc.code, res.code, "%s: %v", verb, res.err)
				if assert.Error(t, res.err, verb) {
					assert.Contains(t, res.err.Error(), tc.message, verb)
				}
			}
			if ar != nil {
				after := snap(t, ar)
				assert.Equal(t, before.ar.ResourceVersion, after.ar.ResourceVersion, "a refused decision must change nothing")
				assert.Equal(t, before.rr.ResourceVersion, after.rr.ResourceVersion)
			}
		})
	}
}

func asUserClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	c, err := client.New(cfg, client.Options{Scheme: env.Client.Scheme()})
	require.NoError(t, err)
	return c
}

func TestDescribeWatch(t *testing.T) {
	ns := env.Namespace(t, nil)
	ar := pendingApprovalFixture(t, ns, "rr-watched", time.Now().Add(15*time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := &syncbuf.Buffer{}
	done := make(chan result, 1)
	go func() {
		done <- run(t, invocation{ctx: ctx, out: out, now: time.Now}, "describe", "rr-watched", "-n", ns, "--watch")
	}()
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Contains(ct, out.String(), "Phase:         AwaitingApproval")
	}, 20*time.Second, 50*time.Millisecond)

	// A decision (a child changes) is shown, then the request's end ends the watch.
	res := run(t, invocation{cfg: asUser(t, ns, "alice", approverRules), now: time.Now}, "approve", "rr-watched", "-n", ns)
	require.Equal(t, kubectlplugin.ExitOK, res.code, "%v", res.err)
	assert.EventuallyWithT(t, func(ct *assert.CollectT) {
		assert.Contains(ct, out.String(), "Approved by alice")
	}, 20*time.Second, 50*time.Millisecond)
	var rr remediationv1.RemediationRequest
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: ar.Spec.RemediationRequestRef.Name}, &rr))
	orig := rr.DeepCopy()
	rr.Status.OverallPhase, rr.Status.Outcome = remediationv1.PhaseCompleted, remediationv1.OutcomeRemediated
	rr.Status.CompletionTime = &metav1.Time{Time: time.Now().Truncate(time.Second)}
	require.NoError(t, env.Client.Status().Patch(ctx, &rr, client.MergeFrom(orig)))

	select {
	case r := <-done:
		assert.Equal(t, kubectlplugin.ExitOK, r.code, "%v", r.err)
	case <-time.After(30 * time.Second):
		t.Fatal("describe --watch did not end when the request completed")
	}
	text := out.String()
	assert.Contains(t, text, "Phase:         Completed")
	assert.GreaterOrEqual(t, strings.Count(text, "\n--- "), 2, "one separator per change:\n%s", text)
}
