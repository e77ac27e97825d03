package kubectlplugin

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	aiv1 "github.com/kubernaut/kubernaut/apis/aianalysis/v1alpha1"
	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	kev1 "github.com/kubernaut/kubernaut/apis/kubernetesexecution/v1alpha1"
	notificationv1 "github.com/kubernaut/kubernaut/apis/notification/v1alpha1"
	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
	processingv1 "github.com/kubernaut/kubernaut/apis/remediationprocessing/v1alpha1"
	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
)

// Remediation is a request with every child it has, as describe prints it (-o json|yaml too).
// Children are found through the request's status references; a child that is gone (finished
// children may be deleted) is simply absent.
type Remediation struct {
	Request       *remediationv1.RemediationRequest    `json:"remediationRequest"`
	Timeline      []TimelineEntry                      `json:"timeline"`
	Processing    *processingv1.RemediationProcessing  `json:"processing,omitempty"`
	Analysis      *aiv1.AIAnalysis                     `json:"analysis,omitempty"`
	Approval      *aiv1.AIApprovalRequest              `json:"approvalRequest,omitempty"`
	Workflow      *workflowv1.WorkflowExecution        `json:"workflow,omitempty"`
	Execution     *kev1.KubernetesExecution            `json:"execution,omitempty"`
	Notifications []notificationv1.NotificationRequest `json:"notifications,omitempty"`
	// Warnings lists children that could not be read (for example forbidden by RBAC).
	Warnings []string `json:"warnings,omitempty"`
}

// getRequest reads a request, turning NotFound into exit code 3.
func getRequest(ctx context.Context, c client.Client, ns, name string) (*remediationv1.RemediationRequest, error) {
	var rr remediationv1.RemediationRequest
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &rr); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, exitErr(ExitNotFound, "remediation request %q not found in namespace %s", name, ns)
		}
		return nil, fmt.Errorf("reading remediation request %s/%s: %w", ns, name, err)
	}
	return &rr, nil
}

// gather reads the request and its children.
func gather(ctx context.Context, c client.Client, ns, name string, now metav1.Time) (*Remediation, error) {
	rr, err := getRequest(ctx, c, ns, name)
	if err != nil {
		return nil, err
	}
	r := &Remediation{Request: rr}
	get := func(ref *common.ObjectReference, obj client.Object, what string) bool {
		if ref == nil || ref.Name == "" {
			return false
		}
		refNS := ref.Namespace
		if refNS == "" {
			refNS = rr.Namespace
		}
		err := c.Get(ctx, client.ObjectKey{Namespace: refNS, Name: ref.Name}, obj)
		switch {
		case err == nil:
			return true
		case apierrors.IsNotFound(err):
			return false
		default:
			r.Warnings = append(r.Warnings, fmt.Sprintf("cannot read %s %s/%s: %v", what, refNS, ref.Name, err))
			return false
		}
	}
	st := &rr.Status
	if rp := (&processingv1.RemediationProcessing{}); get(st.RemediationProcessingRef, rp, "RemediationProcessing") {
		r.Processing = rp
	}
	if aia := (&aiv1.AIAnalysis{}); get(st.AIAnalysisRef, aia, "AIAnalysis") {
		r.Analysis = aia
		if ap := aia.Status.Approval; ap != nil {
			if ar := (&aiv1.AIApprovalRequest{}); get(ap.ApprovalRequestRef, ar, "AIApprovalRequest") {
				r.Approval = ar
			}
		}
	}
	if wfe := (&workflowv1.WorkflowExecution{}); get(st.WorkflowExecutionRef, wfe, "WorkflowExecution") {
		r.Workflow = wfe
	}
	if ke := (&kev1.KubernetesExecution{}); get(st.KubernetesExecutionRef, ke, "KubernetesExecution") {
		r.Execution = ke
	}
	seen := map[string]bool{}
	refs := append([]common.ObjectReference(nil), st.NotificationRequestRefs...)
	for _, e := range st.Escalations {
		if e.NotificationName != "" {
			refs = append(refs, common.ObjectReference{Name: e.NotificationName, Namespace: rr.Namespace})
		}
	}
	for i := range refs {
		key := refs[i].Namespace + "/" + refs[i].Name
		if seen[key] {
			continue
		}
		seen[key] = true
		if nr := (&notificationv1.NotificationRequest{}); get(&refs[i], nr, "NotificationRequest") {
			r.Notifications = append(r.Notifications, *nr)
		}
	}
	r.strip()
	r.Timeline = timeline(r, now)
	return r, nil
}

// strip drops managed fields and sets the type of every object, for -o json|yaml.
func (r *Remediation) strip() {
	set := func(m *metav1.ObjectMeta, tm *metav1.TypeMeta, gv, kind string) {
		stripMeta(m)
		tm.APIVersion, tm.Kind = gv, kind
	}
	set(&r.Request.ObjectMeta, &r.Request.TypeMeta, remediationv1.GroupVersion.String(), "RemediationRequest")
	if r.Processing != nil {
		set(&r.Processing.ObjectMeta, &r.Processing.TypeMeta, processingv1.GroupVersion.String(), "RemediationProcessing")
	}
	if r.Analysis != nil {
		set(&r.Analysis.ObjectMeta, &r.Analysis.TypeMeta, aiv1.GroupVersion.String(), "AIAnalysis")
	}
	if r.Approval != nil {
		set(&r.Approval.ObjectMeta, &r.Approval.TypeMeta, aiv1.GroupVersion.String(), "AIApprovalRequest")
	}
	if r.Workflow != nil {
		set(&r.Workflow.ObjectMeta, &r.Workflow.TypeMeta, workflowv1.GroupVersion.String(), "WorkflowExecution")
	}
	if r.Execution != nil {
		set(&r.Execution.ObjectMeta, &r.Execution.TypeMeta, kev1.GroupVersion.String(), "KubernetesExecution")
	}
	for i := range r.Notifications {
		n := &r.Notifications[i]
		set(&n.ObjectMeta, &n.TypeMeta, notificationv1.GroupVersion.String(), "NotificationRequest")
	}
}
