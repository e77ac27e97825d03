package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/incident"
	"github.com/kubernaut/kubernaut/internal/launcher"
	"github.com/kubernaut/kubernaut/internal/testutil/standin"
	"github.com/kubernaut/kubernaut/internal/workload"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpclient"
)

// raisedLimit is the memory limit the builtin investigator recommends after an OOMKill of the
// staged 128Mi container (×1.5).
var raisedLimit = resource.MustParse("192Mi")

// waitEnded waits for the request to reach a final phase and returns it.
func waitEnded(t *testing.T, name string) *remediationv1.RemediationRequest {
	t.Helper()
	var rr *remediationv1.RemediationRequest
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got, err := request(context.Background(), name)
		if assert.NoError(c, err) && assert.True(c, got.Status.OverallPhase.IsTerminal(), "phase %s", got.Status.OverallPhase) {
			rr = got
		}
	}, 3*time.Minute, 100*time.Millisecond, "request %s never ended", name)
	return rr
}

// unattendedEnvironment is the environment of the scenarios that run without a person: the
// shipped approval policy gates every change in production (and in unknown environments) until a
// person approves, and lets staging run unattended.
const unattendedEnvironment = "staging"

// approveWhenAsked waits for the request to await a person's decision and approves it as user
// with the documented command.
func approveWhenAsked(t *testing.T, name, user, reason string) {
	t.Helper()
	awaitingApproval(t, name)
	kubectlKubernaut(t, approver(t, user), "approve", name, "--reason", reason)
}

// awaitingApproval waits until request name waits for a person's approval.
func awaitingApproval(t *testing.T, name string) {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		rr, err := request(context.Background(), name)
		if assert.NoError(c, err) {
			assert.Equal(c, remediationv1.PhaseAwaitingApproval, rr.Status.OverallPhase)
		}
	}, 2*time.Minute, 100*time.Millisecond, "request %s never awaited a person's approval", name)
}

// endVerified waits until the request verifies its change, sends the incident's resolved
// notification as Alertmanager does once the fixed workload stops alerting, and waits for the
// request's end: a resolved alert after the change (and passing cluster checks) is the evidence
// that makes the outcome Remediated.
func endVerified(t *testing.T, in *incident.Incident, name string) *remediationv1.RemediationRequest {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		rr, err := request(context.Background(), name)
		if assert.NoError(c, err) {
			assert.True(c, rr.Status.OverallPhase == remediationv1.PhaseVerifying || rr.Status.OverallPhase.IsTerminal(), "phase %s", rr.Status.OverallPhase)
		}
	}, 3*time.Minute, 100*time.Millisecond, "request %s never verified a change", name)
	code, resp, err := incident.Post(context.Background(), sys, in.Webhook(true))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "the resolved notification: %+v", resp)
	return waitEnded(t, name)
}

// memoryLimit returns the container's memory limit of the Deployment and its generation.
func memoryLimit(t *testing.T, in *incident.Incident) (resource.Quantity, int64) {
	t.Helper()
	d := &appsv1.Deployment{}
	require.NoError(t, sys.Cluster.Client.Get(context.Background(), client.ObjectKey{Namespace: in.Namespace, Name: in.Deployment}, d))
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == in.Container {
			return c.Resources.Limits[corev1.ResourceMemory], d.Generation
		}
	}
	t.Fatalf("container %s missing", in.Container)
	return resource.Quantity{}, 0
}

// assertUnchanged checks that the workload still has its original template.
func assertUnchanged(t *testing.T, in *incident.Incident) {
	t.Helper()
	lim, gen := memoryLimit(t, in)
	assert.True(t, lim.Equal(in.MemoryLimit), "memory limit changed to %s", lim.String())
	assert.EqualValues(t, 1, gen, "the Deployment's template was changed")
}

// assertRemediated checks the memory limit was raised once and the new pods run.
func assertRemediated(t *testing.T, in *incident.Incident) {
	t.Helper()
	lim, gen := memoryLimit(t, in)
	assert.True(t, lim.Equal(raisedLimit), "memory limit %s, want %s", lim.String(), raisedLimit.String())
	assert.EqualValues(t, 2, gen, "the template must change exactly once")
	d, err := incident.WaitRolledOut(context.Background(), sys.Cluster.Client, in.Namespace, in.Deployment, time.Minute)
	require.NoError(t, err)
	pods, err := incident.RunningPods(context.Background(), sys.Cluster.Client, d)
	require.NoError(t, err)
	for _, p := range pods {
		got := p.Spec.Containers[0].Resources.Limits[corev1.ResourceMemory]
		assert.True(t, got.Equal(raisedLimit), "pod %s runs with %s", p.Name, got.String())
	}
	assert.Len(t, pods, int(*d.Spec.Replicas))
}

// audit reads the request's audit record back from datastorage, as a person with the reader
// token would, once it holds want (retried while the orchestrator's outbox catches up).
func audit(t *testing.T, name string, want func(c *assert.CollectT, a auditapi.RemediationAudit)) auditapi.RemediationAudit {
	t.Helper()
	ds, ok := sys.Services["datastorage"]
	if !ok {
		t.Skipf("remote mode: the audit trail is not checked: set %s (make e2e-kind and make test-e2e-deployed set it to datastorage's NodePort)", EnvDatastorageURL)
	}
	hc := httpclient.New(ds.URL(), sys.ReaderTokenFile)
	var rec auditapi.RemediationAudit
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var got auditapi.RemediationAudit
		if assert.NoError(c, hc.Do(context.Background(), http.MethodGet, auditapi.RemediationPath+"/"+name, nil, &got)) {
			want(c, got)
			rec = got
		}
	}, 2*time.Minute, 200*time.Millisecond, "audit record of %s", name)
	return rec
}

// completeAudit checks that the record has every child's final status and the executed operation.
func completeAudit(outcome string, children ...string) func(c *assert.CollectT, a auditapi.RemediationAudit) {
	return func(c *assert.CollectT, a auditapi.RemediationAudit) {
		assert.Equal(c, string(remediationv1.PhaseCompleted), a.OverallPhase)
		assert.Equal(c, outcome, a.Outcome)
		assert.NotNil(c, a.CompletionTime)
		phases := map[string]string{}
		for _, s := range a.ServiceCRDStatuses {
			phases[s.ServiceType] = s.Phase
		}
		for _, kind := range children {
			assert.Equal(c, "Completed", phases[kind], "%s in the audit record", kind)
		}
		if assert.Len(c, a.Operations, 1) {
			op := a.Operations[0]
			assert.Equal(c, "increase_resources", op.Action)
			assert.Equal(c, raisedLimit.String(), op.Params["memoryLimit"])
			assert.Equal(c, string(kev1.OperationSucceeded), op.Phase)
		}
	}
}

var allChildren = []string{"RemediationProcessing", "AIAnalysis", "WorkflowExecution", "KubernetesExecution"}

// delivered waits for one notification of the type about the request to be Sent and returns it.
func delivered(t *testing.T, name string, typ notificationv1.Type) notificationv1.NotificationRequest {
	t.Helper()
	var nr notificationv1.NotificationRequest
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		nrs, err := notificationsFor(context.Background(), name)
		if !assert.NoError(c, err) {
			return
		}
		got := ofType(nrs, typ)
		if assert.Len(c, got, 1, "%s notifications of %s", typ, name) {
			if remote {
				// The channels are the deployment's (no stand-ins): check that the notification
				// service finished its delivery attempt, not that every channel accepted it.
				assert.True(c, got[0].Status.Phase.IsTerminal(), "phase %s", got[0].Status.Phase)
			} else {
				assert.Equal(c, notificationv1.PhaseSent, got[0].Status.Phase)
			}
			nr = got[0]
		}
	}, time.Minute, 100*time.Millisecond)
	if remote && nr.Status.Phase != notificationv1.PhaseSent {
		t.Logf("remote mode: delivery to the deployment's channels not checked: %s notification %s ended %s", typ, nr.Name, nr.Status.Phase)
	}
	return nr
}

// standInGot waits until the channel's stand-in (of sys.StandIns, picked by pick) received a
// request whose body mentions s.
func standInGot(t *testing.T, pick func(*standin.Set) *standin.HTTP, channel, s string) {
	t.Helper()
	if remote {
		t.Logf("remote mode: the %s channel is the deployment's, not a stand-in: what it received is not checked", channel)
		return
	}
	h := pick(sys.StandIns)
	assert.EventuallyWithT(t, func(c *assert.CollectT) {
		found := false
		for _, r := range h.Received() {
			found = found || strings.Contains(string(r.Body), s)
		}
		assert.True(c, found, "%s stand-in received nothing about %s", channel, s)
	}, 30*time.Second, 100*time.Millisecond)
}

// 1. OOMKilled Deployment → memory limit raised, new pods Running, request Completed/Remediated,
// audit record complete (every child's status, the operation and its result), completion
// notification delivered.
func TestE2E01OOMKilledDeploymentRemediated(t *testing.T) {
	ctx := context.Background()
	in, err := incident.OOM(ctx, sys.Cluster, namespaceFor(t), incident.NamespaceOptions{Environment: unattendedEnvironment})
	require.NoError(t, err)
	name := postCreated(t, in)
	rr := endVerified(t, in, name)
	assert.Equal(t, remediationv1.PhaseCompleted, rr.Status.OverallPhase)
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome)
	assertRemediated(t, in)
	audit(t, name, completeAudit(string(remediationv1.OutcomeRemediated), allChildren...))
	delivered(t, name, notificationv1.TypeCompletion)
	standInGot(t, func(s *standin.Set) *standin.HTTP { return s.Slack }, "Slack", name)
}

// approverRole is the ClusterRole deploy/base ships for the people who decide approvals.
const approverRole = "kubernaut-approver"

// approver returns the kubeconfig of a person bound to the shipped approver role, and nothing
// else: a user of the local cluster's CA, or in remote mode the administrator impersonating the
// person (kubectl's --as).
func approver(t *testing.T, user string) string {
	t.Helper()
	ctx := context.Background()
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("e2e-%s-%s-%s", approverRole, user, runID)},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: approverRole},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	require.NoError(t, client.IgnoreAlreadyExists(sys.Cluster.Client.Create(ctx, crb)))
	t.Cleanup(func() { assert.NoError(t, client.IgnoreNotFound(sys.Cluster.Client.Delete(context.Background(), crb))) })
	if !remote {
		kc, err := sys.Cluster.AddUser(user)
		require.NoError(t, err)
		return kc
	}
	cfg, err := clientcmd.LoadFromFile(sys.Cluster.Kubeconfig)
	require.NoError(t, err)
	for _, ai := range cfg.AuthInfos {
		ai.Impersonate, ai.ImpersonateGroups = user, nil
	}
	kc := filepath.Join(t.TempDir(), user+".kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, kc))
	return kc
}

// kubectlKubernaut runs the documented command (`kubectl kubernaut …`, the plugin found on
// PATH) as the person whose kubeconfig is given.
func kubectlKubernaut(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	path := os.Getenv("PATH")
	if sys.BinDir != "" {
		path = sys.BinDir + string(os.PathListSeparator) + path
	}
	var cmd *exec.Cmd
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		cmd = exec.Command(kubectl, append([]string{"kubernaut"}, args...)...)
	} else if sys.BinDir != "" { // no kubectl: the plugin binary itself, which is what kubectl would run
		cmd = exec.Command(filepath.Join(sys.BinDir, launcher.Plugin), args...)
	} else {
		plugin, err := exec.LookPath(launcher.Plugin)
		require.NoError(t, err, "remote mode: put %s on PATH (make install-plugin; make e2e-kind does)", launcher.Plugin)
		cmd = exec.Command(plugin, args...)
	}
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+path)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kubectl kubernaut %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// awaitApproval stages an OOM under a policy that requires approval and waits for the approval
// notification; it returns the incident and the request.
func awaitApproval(t *testing.T) (*incident.Incident, string) {
	t.Helper()
	ctx := context.Background()
	restore, err := incident.SetApprovalPolicy(ctx, sys.Cluster.Client, incident.RequireApprovalPolicy)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, restore()) })
	in, err := incident.OOM(ctx, sys.Cluster, namespaceFor(t), incident.NamespaceOptions{})
	require.NoError(t, err)
	name := postCreated(t, in)
	var awaiting time.Time
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		rr, err := request(ctx, name)
		if assert.NoError(c, err) {
			assert.Equal(c, remediationv1.PhaseAwaitingApproval, rr.Status.OverallPhase)
		}
	}, time.Minute, 20*time.Millisecond)
	awaiting = time.Now()
	nr := delivered(t, name, notificationv1.TypeApproval)
	// Reported, not asserted (speed is measured, never asserted): the contract's "within 2 s".
	t.Logf("approval notification %s created %s after the request was seen AwaitingApproval (second precision)",
		nr.Name, nr.CreationTimestamp.Sub(awaiting.Truncate(time.Second)))
	assertUnchanged(t, in)
	return in, name
}

// 2. Approval required → approval NotificationRequest → approved with the documented command →
// executed, decidedBy recorded in the audit.
func TestE2E02ApprovalRequiredThenApproved(t *testing.T) {
	in, name := awaitApproval(t)
	kubectlKubernaut(t, approver(t, "alice"), "approve", name, "--reason", "memory graph confirms the leak-free growth")
	rr := endVerified(t, in, name)
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome)
	assertRemediated(t, in)
	rec := audit(t, name, completeAudit(string(remediationv1.OutcomeRemediated), allChildren...))
	if assert.NotNil(t, rec.Approval) {
		assert.True(t, rec.Approval.Required)
		assert.Equal(t, string(aiv1.DecisionApproved), rec.Approval.Decision)
		assert.Equal(t, "alice", rec.Approval.DecidedBy)
	}
}

// 3. Rejected → nothing changed, request ends Rejected, escalation delivered. The alert is a
// warning in production (priority P1), whose escalations go to Slack and email (P0 would page
// PagerDuty too).
func TestE2E03ApprovalRejected(t *testing.T) {
	in, name := awaitApproval(t)
	kubectlKubernaut(t, approver(t, "bob"), "reject", name, "--reason", "not during the sale")
	rr := waitEnded(t, name)
	assert.Equal(t, remediationv1.OutcomeRejected, rr.Status.Outcome, "phase %s", rr.Status.OverallPhase)
	assertUnchanged(t, in)
	assert.Equal(t, remediationv1.Priority("P1"), rr.Spec.Priority, "severity warning × production")
	delivered(t, name, notificationv1.TypeEscalation)
	standInGot(t, func(s *standin.Set) *standin.HTTP { return s.Slack }, "Slack", rr.Spec.SignalFingerprint)
	rec := audit(t, name, func(c *assert.CollectT, a auditapi.RemediationAudit) {
		assert.Equal(c, string(rr.Status.OverallPhase), a.OverallPhase)
	})
	if assert.NotNil(t, rec.Approval) {
		assert.Equal(t, string(aiv1.DecisionRejected), rec.Approval.Decision)
		assert.Equal(t, "bob", rec.Approval.DecidedBy)
	}
	assert.Empty(t, rec.Operations)
}

// 5. A target in a protected namespace → executor refuses, request Failed, escalation delivered,
// nothing changed.
func TestE2E05ProtectedNamespaceRefused(t *testing.T) {
	ctx := context.Background()
	in, err := incident.OOM(ctx, sys.Cluster, namespaceFor(t), incident.NamespaceOptions{Protected: true, Environment: unattendedEnvironment})
	require.NoError(t, err)
	name := postCreated(t, in)
	rr := waitEnded(t, name)
	assert.Equal(t, remediationv1.PhaseFailed, rr.Status.OverallPhase)
	t.Logf("failure reason: %s", rr.Status.FailureReason)
	if ref := rr.Status.KubernetesExecutionRef; assert.NotNil(t, ref, "the refusal comes from the executor") {
		ke := &kev1.KubernetesExecution{}
		require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: launcher.SystemNamespace, Name: ref.Name}, ke))
		assert.Equal(t, kev1.PhaseFailed, ke.Status.Phase)
	}
	assertUnchanged(t, in)
	delivered(t, name, notificationv1.TypeEscalation)
}

// 6. An incident the investigator cannot explain (a latency alert on healthy pods) →
// ManualReviewRequired, no change, manual-review notification.
func TestE2E06UnexplainedIncidentManualReview(t *testing.T) {
	ctx := context.Background()
	ns := namespaceFor(t)
	in, err := incident.Healthy(ctx, sys.Cluster, ns, "HighRequestLatency")
	require.NoError(t, err)
	name := postCreated(t, in)
	rr := waitEnded(t, name)
	assert.Equal(t, remediationv1.OutcomeManualReviewRequired, rr.Status.Outcome, "phase %s", rr.Status.OverallPhase)
	assertUnchanged(t, in)
	delivered(t, name, notificationv1.TypeManualReview)
	assert.Nil(t, rr.Status.KubernetesExecutionRef, "nothing may be executed")
}

// 8. Datastorage stopped during a remediation, then restarted → audit trail complete afterwards.
// With datastorage down the investigator cannot read Kubernaut's recent changes to the target
// (the repeat-action history), so the approval policy asks a person; approved meanwhile, the
// change runs with datastorage still down.
func TestE2E08DatastorageOutageAuditComplete(t *testing.T) {
	ctx := context.Background()
	ds := stoppedFor(t, "datastorage")
	// staging: without the outage no person would be asked
	in, err := incident.OOM(ctx, sys.Cluster, namespaceFor(t), incident.NamespaceOptions{Environment: unattendedEnvironment})
	require.NoError(t, err)
	require.NoError(t, ds.Stop(ctx))
	name := postCreated(t, in)
	var aiName string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		rr, err := request(ctx, name)
		if assert.NoError(c, err) && assert.Equal(c, remediationv1.PhaseAwaitingApproval, rr.Status.OverallPhase) && assert.NotNil(c, rr.Status.AIAnalysisRef) {
			aiName = rr.Status.AIAnalysisRef.Name
		}
	}, 2*time.Minute, 100*time.Millisecond, "an unreadable history requires a person's approval")
	ai := &aiv1.AIAnalysis{}
	require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Namespace: launcher.SystemNamespace, Name: aiName}, ai))
	if assert.NotNil(t, ai.Status.Approval) {
		assert.Contains(t, ai.Status.Approval.Reason, "could not be read")
	}
	kubectlKubernaut(t, approver(t, "carol"), "approve", name, "--reason", "datastorage is being restored; the OOM kill is plain")
	rr := endVerified(t, in, name)
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome)
	require.NoError(t, ds.Start(ctx))
	require.NoError(t, ds.WaitReady(ctx))
	audit(t, name, completeAudit(string(remediationv1.OutcomeRemediated), allChildren...))
}

// 9. The executor killed (SIGKILL) in the middle of an operation and restarted → the request
// completes, the action applied once.
//
// The executor writes an operation as Running before it changes the target; a watch sees that
// write and the executor is killed at once, so the kill lands between the recorded progress and
// (or just after) the change. When the executor is faster than the watch, the incident is
// played again, up to five times.
func TestE2E09ExecutorKilledMidOperation(t *testing.T) {
	ex := stoppedFor(t, "executor")
	for attempt := 1; attempt <= 5; attempt++ {
		if killedMidOperation(t, ex, attempt) {
			return
		}
	}
	t.Fatal("the executor finished every operation before the watch could kill it")
}

// killedMidOperation plays one incident, kills the executor once its operation is Running, and
// checks the outcome; it reports whether the kill landed before the execution completed.
func killedMidOperation(t *testing.T, ex *service, attempt int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	in, err := incident.OOM(ctx, sys.Cluster, fmt.Sprintf("%s-%d", namespaceFor(t), attempt), incident.NamespaceOptions{Environment: unattendedEnvironment})
	require.NoError(t, err)
	// The executor is down when the request reaches it, so that the watch is in place first.
	require.NoError(t, ex.Kill(ctx))
	name := postCreated(t, in)
	var keName string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		rr, err := request(ctx, name)
		if assert.NoError(c, err) && assert.NotNil(c, rr.Status.KubernetesExecutionRef) {
			keName = rr.Status.KubernetesExecutionRef.Name
		}
	}, time.Minute, 50*time.Millisecond)

	wc, err := client.NewWithWatch(sys.Cluster.Config, client.Options{Scheme: sys.Cluster.Client.Scheme()})
	require.NoError(t, err)
	w, err := wc.Watch(ctx, &kev1.KubernetesExecutionList{}, client.InNamespace(launcher.SystemNamespace),
		client.MatchingFields{"metadata.name": keName})
	require.NoError(t, err)
	defer w.Stop()
	require.NoError(t, ex.Start(ctx))
	killedAt := ""
	for ev := range w.ResultChan() {
		ke, ok := ev.Object.(*kev1.KubernetesExecution)
		if !ok {
			continue
		}
		running := false
		for _, r := range ke.Status.OperationResults {
			running = running || r.Phase == kev1.OperationRunning
		}
		if running || ke.Status.Phase == kev1.PhaseCompleted || ke.Status.Phase == kev1.PhaseFailed {
			require.NoError(t, ex.Kill(ctx))
			killedAt = string(ke.Status.Phase)
			if running {
				killedAt += ", operation Running"
			}
			break
		}
	}
	t.Logf("attempt %d: executor killed with the execution %s", attempt, killedAt)
	require.NoError(t, ex.Start(ctx))
	require.NoError(t, ex.WaitReady(ctx))

	rr := endVerified(t, in, name)
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome, "phase %s: %s", rr.Status.OverallPhase, rr.Status.FailureReason)
	assertRemediated(t, in) // raised once: 192Mi, generation 2 (not 288Mi, generation 3)
	return strings.Contains(killedAt, "Running")
}

// 11. A crash loop after a bad rollout → rolled back to the previous image, new pods Running,
// Remediated (the demo's --scenario crashloop).
func TestE2E11CrashLoopAfterRolloutRolledBack(t *testing.T) {
	ctx := context.Background()
	in, err := incident.CrashLoop(ctx, sys.Cluster, namespaceFor(t), incident.NamespaceOptions{Environment: unattendedEnvironment})
	require.NoError(t, err)
	name := postCreated(t, in)
	rr := endVerified(t, in, name)
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome, "phase %s: %s", rr.Status.OverallPhase, rr.Status.FailureReason)
	d, err := incident.WaitRolledOut(ctx, sys.Cluster.Client, in.Namespace, in.Deployment, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, workload.Good, d.Spec.Template.Spec.Containers[0].Image)
	pods, err := incident.RunningPods(ctx, sys.Cluster.Client, d)
	require.NoError(t, err)
	for _, p := range pods {
		assert.Equal(t, workload.Good, p.Spec.Containers[0].Image, "pod %s", p.Name)
	}
	audit(t, name, func(c *assert.CollectT, a auditapi.RemediationAudit) {
		assert.Equal(c, string(remediationv1.PhaseCompleted), a.OverallPhase)
		if assert.Len(c, a.Operations, 1) {
			assert.Equal(c, "rollback_deployment", a.Operations[0].Action)
			assert.Equal(c, string(kev1.OperationSucceeded), a.Operations[0].Phase)
		}
	})
}

// 12. A managed node stops reporting Ready → cordoned, Remediated (the demo's --scenario
// node-notready).
func TestE2E12NodeNotReadyCordoned(t *testing.T) {
	ctx := context.Background()
	node := namespaceFor(t)
	var before corev1.NodeList
	require.NoError(t, sys.Cluster.Client.List(ctx, &before))
	t.Cleanup(func() { assert.NoError(t, incident.DeleteNode(context.Background(), sys.Cluster.Client, node)) })
	in, err := incident.NodeNotReady(ctx, sys.Cluster, node)
	require.NoError(t, err)
	name := postCreated(t, in)
	approveWhenAsked(t, name, "dana", "node confirmed down by the provider console")
	rr := endVerified(t, in, name)
	assert.Equal(t, remediationv1.OutcomeRemediated, rr.Status.Outcome, "phase %s: %s", rr.Status.OverallPhase, rr.Status.FailureReason)
	n := &corev1.Node{}
	require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKey{Name: node}, n))
	assert.True(t, n.Spec.Unschedulable, "node %s not cordoned", node)
	for _, other := range before.Items {
		if other.Spec.Unschedulable {
			continue // cordoned before this scenario
		}
		require.NoError(t, sys.Cluster.Client.Get(ctx, client.ObjectKeyFromObject(&other), n))
		assert.False(t, n.Spec.Unschedulable, "healthy node %s cordoned", other.Name)
	}

	// The node comes back: once Ready for uncordonRecoveredNodesAfter (3s here, set in the safety
	// ConfigMap as a person would; 2m as shipped), the executor uncordons the node it cordoned and
	// records it.
	executorSafety(t, "uncordonRecoveredNodesAfter")("3s")
	require.NoError(t, sys.Cluster.SetNodeReady(ctx, node, true, "KubeletReady", "kubelet is posting ready status"))
	recovered := time.Now()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got := &corev1.Node{}
		if assert.NoError(c, sys.Cluster.Client.Get(ctx, client.ObjectKey{Name: node}, got)) {
			assert.False(c, got.Spec.Unschedulable, "node %s still cordoned", node)
		}
	}, 2*time.Minute, 200*time.Millisecond, "the recovered node was never uncordoned")
	t.Logf("node %s uncordoned %s after it was Ready again", node, time.Since(recovered).Round(time.Millisecond))
	var events eventsv1.EventList
	require.NoError(t, sys.Cluster.Client.List(ctx, &events, client.InNamespace(launcher.SystemNamespace)))
	uncordoned := false
	for _, e := range events.Items {
		uncordoned = uncordoned || (e.Reason == "NodeUncordoned" && e.Related != nil && e.Related.Name == node)
	}
	assert.True(t, uncordoned, "no NodeUncordoned event names node %s", node)
}
