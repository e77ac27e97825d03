package skeleton

import (
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubernaut/kubernaut/pkg/shared/app"
)

// SlimCache narrows the manager's cache to namespace and keeps each object of the kinds of objs
// as identity (app.IdentityMeta), status.phase and status.observedGeneration only: for kinds
// whose reconciler reads the object live before working on it, so that the cache never holds
// the spec and status of thousands of finished objects. The watch's predicates read the phase.
// Call it on the manager options before creating the manager.
func SlimCache(opts *cache.Options, namespace string, objs ...client.Object) {
	opts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	for _, obj := range objs {
		typ := reflect.TypeOf(obj)
		opts.ByObject[obj] = cache.ByObject{Transform: func(o any) (any, error) {
			if reflect.TypeOf(o) != typ {
				return o, nil
			}
			return slim(o.(client.Object)), nil
		}}
	}
}

// slim returns a new object of obj's type with its type meta, identity, status.phase and
// status.observedGeneration.
func slim(obj client.Object) client.Object {
	in := reflect.ValueOf(obj).Elem()
	out := reflect.New(in.Type()).Elem()
	out.FieldByName("TypeMeta").Set(in.FieldByName("TypeMeta"))
	out.FieldByName("ObjectMeta").Set(reflect.ValueOf(app.IdentityMeta(in.FieldByName("ObjectMeta").Addr().Interface().(*metav1.ObjectMeta))))
	from, to := in.FieldByName("Status"), out.FieldByName("Status")
	for _, name := range []string{"Phase", "ObservedGeneration"} {
		to.FieldByName(name).Set(from.FieldByName(name))
	}
	return out.Addr().Interface().(client.Object)
}
