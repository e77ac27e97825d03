// Package plugintest runs the kubectl plugin's command in a test against a test API server and
// holds the inputs its tests and the cross-service meeting tests share: the shipped roles of
// people, a person's config, the golden fixtures' request and the analysis the orchestrator
// creates for it, and the real aianalysis controller set to ask a person.
package plugintest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/chain"
	"github.com/kubernaut/kubernaut/internal/testutil/services"
	"github.com/kubernaut/kubernaut/internal/testutil/syncbuf"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
	"github.com/kubernaut/kubernaut/pkg/kubectlplugin"
)

// T0 is when the fixtures' signals were received.
var T0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// At is T0 + d; Atp a pointer to it.
func At(d time.Duration) metav1.Time   { return metav1.NewTime(T0.Add(d)) }
func Atp(d time.Duration) *metav1.Time { t := At(d); return &t }

// Phase start offsets of the fixtures that more than the plugin's tests use.
const (
	OffProcessing = time.Second
	OffAnalyzing  = 12 * time.Second
)

// Target is the fixtures' target, Deployment shop/web.
func Target() common.TargetResource {
	return common.TargetResource{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
}

// Ref references ns/name.
func Ref(ns, name string) common.ObjectReference {
	return common.ObjectReference{Namespace: ns, Name: name}
}

// ApproverRules and ViewerRules are the rules of the ClusterRoles deploy/base ships for people
// who decide approvals and who only follow remediations (rbac/approver.yaml, rbac/viewer.yaml).
var (
	ApproverRules = ShippedRules("rbac/approver.yaml", "kubernaut-approver")
	ViewerRules   = ShippedRules("rbac/viewer.yaml", "kubernaut-viewer")
)

// ShippedRules reads the rules of ClusterRole name from deploy/base/<file>.
func ShippedRules(file, name string) []rbacv1.PolicyRule {
	path := testenv.DeployFile("base/" + file)
	raw, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		var role rbacv1.ClusterRole
		if err := dec.Decode(&role); err != nil {
			panic(fmt.Sprintf("no ClusterRole %s in %s: %v", name, path, err))
		}
		if role.Kind == "ClusterRole" && role.Name == name {
			return role.Rules
		}
	}
}

// AsUser returns a config acting as user, bound in ns to a Role with rules (none when nil).
func AsUser(t testing.TB, env *testenv.Env, ns, user string, rules []rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	ctx := context.Background()
	if rules != nil {
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: user}, Rules: rules}
		require.NoError(t, env.Client.Create(ctx, role))
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: user},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: user},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}
		require.NoError(t, env.Client.Create(ctx, rb))
	}
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	return cfg
}

// CreateWithStatus creates obj with c and then writes its status through the status
// subresource (an AIApprovalRequest's decision as its decider, for the admission policy).
func CreateWithStatus(t testing.TB, env *testenv.Env, ctx context.Context, c client.Client, obj client.Object) {
	t.Helper()
	want, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	require.NoError(t, err)
	require.NoError(t, c.Create(ctx, obj), "creating %T %s", obj, obj.GetName())
	status, ok := want["status"]
	if !ok {
		return
	}
	got, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	require.NoError(t, err)
	got["status"] = status
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(got, obj))
	writer := c
	if ar, ok := obj.(*aiv1.AIApprovalRequest); ok && ar.Status.DecidedBy != "" {
		// The decision admission policy accepts a decidedBy only from that user.
		writer = asDecider(t, env, ar.Status.DecidedBy)
	}
	require.NoError(t, writer.Status().Update(ctx, obj), "writing the status of %T %s", obj, obj.GetName())
}

// asDecider is an administrator's client acting as user (system:masters), for fixtures whose
// decision must be recorded by its decider.
func asDecider(t testing.TB, env *testenv.Env, user string) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:masters", "system:authenticated"}}
	c, err := client.New(cfg, client.Options{Scheme: env.Client.Scheme()})
	require.NoError(t, err)
	return c
}

// Request is the golden fixtures' RemediationRequest ns/name for an OOMKilled Deployment shop/web,
// received at T0, in phase since phaseStart after T0, seen occurrences times.
func Request(ns, name string, phase remediationv1.Phase, phaseStart time.Duration, occurrences int32) *remediationv1.RemediationRequest {
	rr := &remediationv1.RemediationRequest{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: remediationv1.RemediationRequestSpec{
			SignalFingerprint: chain.Fingerprint(name), SignalName: "KubePodOOMKilled",
			Severity: remediationv1.SeverityCritical, Environment: remediationv1.EnvironmentProduction,
			Priority: remediationv1.PriorityP0, SignalType: remediationv1.SignalTypePrometheusAlert,
			SignalSource: "kubernaut", TargetResource: Target(),
			FiringTime: At(-2 * time.Minute), ReceivedTime: At(0),
			TargetResolution: &remediationv1.TargetResolution{Source: "pod",
				NamedTarget: &common.TargetResource{APIVersion: "v1", Kind: "Pod", Namespace: "shop", Name: "web-7d9f8-x2x9z"}},
		},
		Status: remediationv1.RemediationRequestStatus{
			OverallPhase:   phase,
			PhaseStartTime: Atp(phaseStart),
			Deduplication:  &remediationv1.Deduplication{FirstSeen: At(0), LastSeen: At(time.Duration(occurrences) * time.Minute), OccurrenceCount: occurrences},
		},
	}
	if phase != remediationv1.PhasePending {
		rr.Status.StartTime = Atp(OffProcessing)
	}
	return rr
}

// OOMAnalysis is the AIAnalysis the orchestrator creates for an OOMKilled Deployment shop/web
// (times relative to now), and its RemediationRequest, which names it.
func OOMAnalysis(ns, rrName string) (*remediationv1.RemediationRequest, *aiv1.AIAnalysis) {
	now := metav1.Now()
	ago := func(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(-d)); return &t }
	rr := Request(ns, rrName, remediationv1.PhaseAnalyzing, OffAnalyzing, 0)
	aia := &aiv1.AIAnalysis{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rrName + "-analysis"},
		Spec: aiv1.AIAnalysisSpec{
			RemediationRequestRef: Ref(ns, rrName),
			AnalysisRequest: aiv1.AnalysisRequest{AlertContext: aiv1.SignalContext{
				Fingerprint: rr.Spec.SignalFingerprint, SignalName: "KubePodOOMKilled", Severity: "critical", Environment: "production",
				BusinessPriority: "P0", Namespace: "shop", ResourceKind: "Deployment", ResourceName: "web",
				KubernetesContext: &common.KubernetesContext{
					CollectedAt: &now,
					OwnerChain:  []common.TargetResource{Target()},
					Workload: &common.WorkloadSummary{Kind: "Deployment", Name: "web", Replicas: ptr.To[int32](2), ReadyReplicas: 1,
						Containers: []common.ContainerSpecSummary{{Name: "app", Image: "shop/web:1.4", Requests: map[string]string{"memory": "128Mi"}, Limits: map[string]string{"memory": "256Mi"}}}},
					Rollout: &common.RolloutHistory{Current: &common.RevisionSummary{Revision: 3, Name: "web-7d9f8", BecameCurrentAt: ago(30 * 24 * time.Hour)}},
					Pods: []common.PodSummary{{Name: "web-7d9f8-aaaaa", Phase: "Running", Owner: "ReplicaSet/web-7d9f8", NodeName: "node-a",
						Containers: []common.ContainerSummary{{Name: "app", RestartCount: 4, State: "Running", LastTerminationReason: "OOMKilled", LastExitCode: ptr.To[int32](137),
							LastTerminatedAt: ago(2 * time.Minute), Limits: map[string]string{"memory": "256Mi"}, Requests: map[string]string{"memory": "128Mi"}}}}},
				},
			}},
		},
	}
	rr.Status.AIAnalysisRef = ptr.To(Ref(ns, aia.Name))
	return rr, aia
}

// StartAIAnalysis runs the real aianalysis controller (builtin investigator) for ns under its
// generated RBAC, with an approval policy that asks a person for every recommendation.
func StartAIAnalysis(t testing.TB, env *testenv.Env, ns string) {
	t.Helper()
	services.AIAnalysisPolicy(t, env.Client, ns, "minConfidence: 0.99\n")
	services.AIAnalysis(t, env, ns, nil)
}

// Result is one run of the plugin.
type Result struct {
	Stdout, Stderr string
	Code           int
	Err            error
}

// Invocation configures one run: who runs it (Cfg) and at what time (Now), within Ctx, its
// output to Out (a new buffer when nil).
type Invocation struct {
	Cfg *rest.Config
	Now func() time.Time
	Ctx context.Context
	Out *syncbuf.Buffer
}

// Run runs the plugin's command with args as inv says (Cfg, Now and Ctx are required).
func Run(t testing.TB, inv Invocation, args ...string) Result {
	t.Helper()
	out := inv.Out
	if out == nil {
		out = &syncbuf.Buffer{}
	}
	errOut := &syncbuf.Buffer{}
	o := kubectlplugin.NewOptions(genericiooptions.IOStreams{In: bytes.NewReader(nil), Out: out, ErrOut: errOut})
	cfg := inv.Cfg
	o.RESTConfig = func() (*rest.Config, error) { return rest.CopyConfig(cfg), nil }
	o.Now = inv.Now
	o.WatchInterval = 100 * time.Millisecond
	cmd := kubectlplugin.NewCommand(o)
	cmd.SetArgs(args)
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	err := cmd.ExecuteContext(inv.Ctx)
	return Result{Stdout: out.String(), Stderr: errOut.String(), Code: kubectlplugin.ExitCode(err), Err: err}
}
