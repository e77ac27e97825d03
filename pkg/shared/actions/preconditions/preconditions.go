// Package preconditions captures and compares the state of an operation's target that the
// workflow validated and a person or the policy approved (common.Preconditions): the workflow
// service captures it when it validates an operation, the executor compares it with the live
// target right before the change (ChangedSince) and refuses the change (StaleTarget) when the
// two differ.
//
// What is compared:
//   - generation (metadata.generation), when the kind keeps one (Deployments, StatefulSets,
//     DaemonSets, Pods, HorizontalPodAutoscalers with the HPAGeneration feature): any change of
//     the spec since — a roll-forward, a scale, an edit — increases it;
//   - for a Deployment, its revision (the deployment.kubernetes.io/revision annotation) and the
//     pod-template-hash of the ReplicaSet of that revision: the template that runs.
//
// The resourceVersion is recorded (for the audit trail) but not compared: every status write
// (a Deployment's ready replicas, a Node's heartbeat conditions) changes it, so comparing it would
// refuse nearly every change. Kinds without a generation (Node, PersistentVolumeClaim,
// Namespace) are therefore not pinned beyond their UID; their actions read the live object
// right before the change and write with its resourceVersion as precondition.
package preconditions

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	common "github.com/kubernaut/kubernaut/apis/common/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/actions"
)

// carried returns the preconditions an object carries itself: all but a Deployment's
// pod-template-hash, which is on its ReplicaSet.
func carried(obj client.Object) *common.Preconditions {
	p := &common.Preconditions{Generation: obj.GetGeneration(), ResourceVersion: obj.GetResourceVersion()}
	if d, ok := obj.(*appsv1.Deployment); ok {
		p.Revision = d.Annotations[actions.RevisionAnnotation]
	}
	return p
}

// ChangedSince lists how the live object differs from recorded, as Changed does, and reads the
// ReplicaSets (with r, live) only to say more of an object already found changed. With the
// generation and the revision as recorded, the pod-template-hash is as recorded too: a change of
// the template increases the generation, and a ReplicaSet of a new hash (a new template, or a
// hash collision) is a new revision. So the check right before a change of an unchanged target
// reads nothing beyond the target.
func ChangedSince(ctx context.Context, r client.Reader, recorded *common.Preconditions, obj client.Object) ([]string, error) {
	if recorded == nil {
		return nil, nil
	}
	if recorded.Generation > 0 {
		own := *recorded
		own.PodTemplateHash = ""
		if len(Changed(&own, carried(obj))) == 0 {
			return nil, nil
		}
	}
	live, err := Capture(ctx, r, obj)
	if err != nil {
		return nil, err
	}
	return Changed(recorded, live), nil
}

// Capture reads the preconditions of a live object. For a Deployment with a revision it lists
// its ReplicaSets (actions.ReplicaSetsOf, with r, which must read live) for the pod-template-hash
// of the current one.
func Capture(ctx context.Context, r client.Reader, obj client.Object) (*common.Preconditions, error) {
	p := carried(obj)
	d, ok := obj.(*appsv1.Deployment)
	if !ok || p.Revision == "" {
		return p, nil
	}
	rss, err := actions.ReplicaSetsOf(ctx, r, d)
	if err != nil {
		return nil, err
	}
	for rev, rs := range actions.Revisions(d, rss) {
		if fmt.Sprint(rev) == p.Revision {
			p.PodTemplateHash = rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		}
	}
	return p, nil
}

// Changed lists how live differs from recorded, one phrase per difference; nil means the target
// is as it was validated. Only what recorded carries is compared (an empty value was not
// recorded), and never the resourceVersion.
func Changed(recorded, live *common.Preconditions) []string {
	if recorded == nil || live == nil {
		return nil
	}
	var out []string
	if recorded.Generation > 0 && live.Generation != recorded.Generation {
		out = append(out, fmt.Sprintf("generation %d → %d (its spec was changed)", recorded.Generation, live.Generation))
	}
	if recorded.Revision != "" && live.Revision != recorded.Revision {
		out = append(out, fmt.Sprintf("revision %s → %s", recorded.Revision, orNone(live.Revision)))
	}
	if recorded.PodTemplateHash != "" && live.PodTemplateHash != recorded.PodTemplateHash {
		out = append(out, fmt.Sprintf("pod-template-hash %s → %s", recorded.PodTemplateHash, orNone(live.PodTemplateHash)))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
