package aianalysis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// TestDecisionPolicyOnlyPeopleDecide checks the shipped ValidatingAdmissionPolicy against the
// identities that must not decide: no service account approves or rejects (the aianalysis one
// included, even in its own name), and only the aianalysis service account of the request's own
// namespace records an expiry.
func TestDecisionPolicyOnlyPeopleDecide(t *testing.T) {
	env := testenv.Start(t)
	installDecisionPolicy(t, env)
	ns := env.Namespace(t, nil)
	other := env.Namespace(t, nil)
	alice := asUser(t, env, "alice")
	waitPolicyActive(t, env, ns, alice)

	create := func(name string) string {
		ar := &aiv1.AIApprovalRequest{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: aiv1.AIApprovalRequestSpec{
			AIAnalysisRef: common.ObjectReference{Name: "x", Namespace: ns}, RemediationRequestRef: common.ObjectReference{Name: "x", Namespace: ns},
			Recommendation: aiv1.Recommendation{ID: "r", Action: "increase_resources", RiskLevel: aiv1.RiskMedium}, Reason: "production",
			RequiredBy: metav1.NewTime(time.Now().Add(15 * time.Minute))}}
		require.NoError(t, env.Client.Create(context.Background(), ar))
		return name
	}
	refused := func(t *testing.T, err error, contains string) {
		t.Helper()
		require.Error(t, err)
		assert.True(t, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), err.Error())
		assert.Contains(t, err.Error(), contains)
	}
	unchanged := func(t *testing.T, name string) {
		t.Helper()
		ar := &aiv1.AIApprovalRequest{}
		require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ar))
		assert.Empty(t, ar.Status.Decision, "nothing was decided")
		assert.Empty(t, ar.Status.DecidedBy)
	}

	aianalysisSA := "system:serviceaccount:" + ns + ":kubernaut-aianalysis"
	tests := map[string]struct {
		user     string
		decision aiv1.Decision
		contains string
	}{
		"the aianalysis service account approves in its own name":              {aianalysisSA, aiv1.DecisionApproved, "only people approve or reject"},
		"the aianalysis service account rejects in its own name":               {aianalysisSA, aiv1.DecisionRejected, "only people approve or reject"},
		"another service account approves in its own name":                     {"system:serviceaccount:" + ns + ":kubernaut-executor", aiv1.DecisionApproved, "only people approve or reject"},
		"an aianalysis service account of another namespace records an expiry": {"system:serviceaccount:" + other + ":kubernaut-aianalysis", aiv1.DecisionExpired, "only the aianalysis service records an expiry"},
	}
	i := 0
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i++
			ar := create("decide-" + string(rune('a'+i)))
			err := decide(asUser(t, env, tc.user), ns, ar, tc.decision, tc.user, "")
			refused(t, err, tc.contains)
			unchanged(t, ar)
		})
	}

	t.Run("a person approves; the service records an expiry", func(t *testing.T) {
		require.NoError(t, decide(alice, ns, create("person"), aiv1.DecisionApproved, "alice", ""))
		require.NoError(t, decide(asUser(t, env, aianalysisSA), ns, create("expiry"), aiv1.DecisionExpired, aianalysisSA, ""))
	})
}
