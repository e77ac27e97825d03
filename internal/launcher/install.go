package launcher

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// skippedKinds need images or a cluster network: the services run as local processes instead.
var skippedKinds = map[string]bool{
	"Deployment": true, "StatefulSet": true, "DaemonSet": true, "Service": true,
	"PersistentVolumeClaim": true, "Secret": true,
}

// skippedResources are kustomization entries the launcher replaces: the CRDs are installed by the
// cluster, PostgreSQL is a local server.
var skippedResources = map[string]bool{"../crds": true, "postgres.yaml": true}

// Install creates the objects of the kustomization in dir (deploy/base), following its
// `resources` (files and folders with their own kustomization.yaml, or every YAML file of a
// folder without one), except workloads, Services, Secrets and the resources the launcher
// replaces. Namespaces are created first; objects that exist are left as they are.
func Install(ctx context.Context, c client.Client, dir string) error {
	var objs []*unstructured.Unstructured
	if err := collect(dir, &objs); err != nil {
		return err
	}
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].GetKind() == "Namespace" && objs[j].GetKind() != "Namespace" })
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating %s %s from deploy/: %w", obj.GetKind(), client.ObjectKeyFromObject(obj), err)
		}
	}
	return nil
}

type kustomization struct {
	Resources []string `json:"resources"`
}

func collect(dir string, objs *[]*unstructured.Unstructured) error {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := decodeFile(f, objs); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	var k kustomization
	if err := yaml.Unmarshal(raw, &k); err != nil {
		return fmt.Errorf("reading %s: %w", filepath.Join(dir, "kustomization.yaml"), err)
	}
	for _, r := range k.Resources {
		if skippedResources[r] || strings.Contains(r, "://") {
			continue
		}
		p := filepath.Join(dir, r)
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("resource %s of %s: %w", r, dir, err)
		}
		if fi.IsDir() {
			err = collect(p, objs)
		} else {
			err = decodeFile(p, objs)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func decodeFile(path string, objs *[]*unstructured.Unstructured) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("decoding %s: %w", path, err)
		}
		if len(u.Object) == 0 || skippedKinds[u.GetKind()] {
			continue
		}
		*objs = append(*objs, &u)
	}
}
