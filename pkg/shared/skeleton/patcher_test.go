package skeleton_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	workflowv1 "github.com/kubernaut/kubernaut/apis/workflowexecution/v1alpha1"
	"github.com/kubernaut/kubernaut/pkg/shared/skeleton"
)

// harness is a fake API server holding one WorkflowExecution; it counts status patches and
// fails them with patchErr when set.
type harness struct {
	client   client.Client
	patches  int
	patchErr error
}

func newHarness(t *testing.T) (*harness, *workflowv1.WorkflowExecution) {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, workflowv1.AddToScheme(s))
	h := &harness{}
	wfe := &workflowv1.WorkflowExecution{ObjectMeta: metav1.ObjectMeta{Name: "rr-1-workflow", Namespace: "kubernaut-system", Generation: 2}}
	h.client = fake.NewClientBuilder().WithScheme(s).WithObjects(wfe).WithStatusSubresource(wfe).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			h.patches++
			if h.patchErr != nil {
				return h.patchErr
			}
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		}}).Build()
	got := &workflowv1.WorkflowExecution{}
	require.NoError(t, h.client.Get(context.Background(), client.ObjectKeyFromObject(wfe), got))
	return h, got
}

func TestFinish(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Group: workflowv1.GroupVersion.Group, Resource: "workflowexecutions"}, "rr-1-workflow", errors.New("the object has been modified"))
	transient := errors.New("the analysis is not ready")
	tests := map[string]struct {
		change     bool
		retErr     error
		patchErr   error
		wantPatch  int
		wantErrIs  []error
		wantErr    bool
		terminal   bool
		wantResult ctrl.Result
		wantOG     int64
	}{
		"unchanged, no error: observedGeneration is the only change": {wantPatch: 1, wantOG: 2},
		"changed, no error": {change: true, wantPatch: 1, wantOG: 2},
		"changed, transient error: no observedGeneration": {change: true, retErr: transient, wantPatch: 1, wantErr: true, wantErrIs: []error{transient}},
		"changed, terminal error: observedGeneration set, still terminal": {change: true, retErr: reconcile.TerminalError(transient), wantPatch: 1,
			wantErr: true, wantErrIs: []error{transient}, terminal: true, wantOG: 2},
		"patch error joined to the reconcile error": {change: true, retErr: transient, patchErr: errors.New("etcd unavailable"), wantPatch: 1,
			wantErr: true, wantErrIs: []error{transient}},
		"patch error after a terminal error: retried": {change: true, retErr: reconcile.TerminalError(transient), patchErr: errors.New("etcd unavailable"), wantPatch: 1,
			wantErr: true, wantErrIs: []error{transient}},
		"patch error alone is returned":         {change: true, patchErr: errors.New("etcd unavailable"), wantPatch: 1, wantErr: true},
		"conflict requeues silently":            {change: true, patchErr: conflict, wantPatch: 1, wantResult: ctrl.Result{RequeueAfter: skeleton.ConflictRequeue}},
		"conflict of the reconcile's own write": {retErr: conflict, wantPatch: 0, wantResult: ctrl.Result{RequeueAfter: skeleton.ConflictRequeue}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h, wfe := newHarness(t)
			p := skeleton.NewPatcher(h.client, wfe)
			if tc.change {
				wfe.Status.Phase = workflowv1.PhasePlanning
			}
			h.patchErr = tc.patchErr
			res, err := ctrl.Result{RequeueAfter: 5}, tc.retErr
			p.Finish(context.Background(), &res, &err)
			assert.Equal(t, tc.wantPatch, h.patches, "status patches")
			if !tc.wantErr {
				assert.NoError(t, err)
				if tc.wantResult != (ctrl.Result{}) {
					assert.Equal(t, tc.wantResult, res)
				}
			} else {
				require.Error(t, err)
				assert.Equal(t, ctrl.Result{}, res, "no result beside an error")
				for _, e := range tc.wantErrIs {
					assert.ErrorIs(t, err, e)
				}
				if tc.patchErr != nil {
					assert.ErrorContains(t, err, tc.patchErr.Error())
				}
				assert.Equal(t, tc.terminal, errors.Is(err, reconcile.TerminalError(nil)), "terminal")
			}
			stored := &workflowv1.WorkflowExecution{}
			require.NoError(t, h.client.Get(context.Background(), client.ObjectKeyFromObject(wfe), stored))
			if tc.patchErr == nil && tc.wantPatch > 0 {
				assert.Equal(t, tc.wantOG, stored.Status.ObservedGeneration)
			}
		})
	}
}

func TestPatchSkipsWhenUnchanged(t *testing.T) {
	h, wfe := newHarness(t)
	p := skeleton.NewPatcher(h.client, wfe)
	require.NoError(t, p.Patch(context.Background()))
	assert.Equal(t, 0, h.patches, "nothing changed: no request")

	wfe.Status.Phase = workflowv1.PhasePlanning
	require.NoError(t, p.Patch(context.Background()))
	require.NoError(t, p.Patch(context.Background()))
	assert.Equal(t, 1, h.patches, "the second patch has nothing new")

	wfe.Status.ObservedGeneration = wfe.Generation
	res, err := ctrl.Result{}, error(nil)
	p.Finish(context.Background(), &res, &err)
	require.NoError(t, err)
	res, err = ctrl.Result{}, error(nil)
	p.Finish(context.Background(), &res, &err)
	assert.Equal(t, 2, h.patches, "observedGeneration written once")
}

func TestOptimisticLock(t *testing.T) {
	tests := map[string]struct {
		opts         []skeleton.Option
		wantConflict bool
	}{
		"with the lock, a second writer loses":   {opts: []skeleton.Option{skeleton.WithOptimisticLock()}, wantConflict: true},
		"without the lock, the last writer wins": {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h, wfe := newHarness(t)
			ctx := context.Background()
			p := skeleton.NewPatcher(h.client, wfe, tc.opts...)

			// Another writer (an old leader) changes the status after our read.
			other := wfe.DeepCopy()
			other.Status.Message = "written by the other one"
			require.NoError(t, h.client.Status().Update(ctx, other))

			wfe.Status.Phase = workflowv1.PhasePlanning
			err := p.Patch(ctx)
			if !tc.wantConflict {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, apierrors.IsConflict(err), "conflict: %v", err)

			res, retErr := ctrl.Result{}, error(nil)
			p.Finish(ctx, &res, &retErr)
			assert.NoError(t, retErr, "a conflict is no error")
			assert.Equal(t, ctrl.Result{RequeueAfter: skeleton.ConflictRequeue}, res)
			stored := &workflowv1.WorkflowExecution{}
			require.NoError(t, h.client.Get(ctx, client.ObjectKeyFromObject(wfe), stored))
			assert.Equal(t, "written by the other one", stored.Status.Message)
			assert.Empty(t, stored.Status.Phase)
		})
	}
}

func TestOnWrite(t *testing.T) {
	h, wfe := newHarness(t)
	var versions []string
	p := skeleton.NewPatcher(h.client, wfe, skeleton.OnWrite(func() { versions = append(versions, wfe.ResourceVersion) }))
	before := wfe.ResourceVersion
	wfe.Status.Phase = workflowv1.PhasePlanning
	require.NoError(t, p.Patch(context.Background()))
	require.Len(t, versions, 1)
	assert.NotEqual(t, before, versions[0])
}

func TestWithConditions(t *testing.T) {
	h, wfe := newHarness(t)
	computed := 0
	p := skeleton.NewPatcher(h.client, wfe, skeleton.WithConditions(func() {
		computed++
		wfe.Status.Message = string(wfe.Status.Phase) // derived from the phase
	}))
	wfe.Status.Phase = workflowv1.PhasePlanning
	require.NoError(t, p.Patch(context.Background()))
	res, err := ctrl.Result{}, error(nil)
	p.Finish(context.Background(), &res, &err)
	require.NoError(t, err)
	assert.Equal(t, 2, computed, "before each write")
	stored := &workflowv1.WorkflowExecution{}
	require.NoError(t, h.client.Get(context.Background(), client.ObjectKeyFromObject(wfe), stored))
	assert.Equal(t, "Planning", stored.Status.Message)
}
