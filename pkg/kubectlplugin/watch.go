package kubectlplugin

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	remediationv1 "github.com/kubernaut/kubernaut/apis/remediation/v1alpha1"
)

// runWatch prints the description, then again whenever the request or one of its children
// changes, until the request reaches a final phase (or the command is interrupted). The request
// is watched; its children are re-read every WatchInterval.
func (o *Options) runWatch(ctx context.Context, name string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ns := o.namespace()
	lastVersions := ""
	printed := 0
	refresh := func() (bool, error) {
		r, err := gather(ctx, c, ns, name, metav1.NewTime(o.Now()))
		if err != nil {
			return false, err
		}
		if v := versions(r); v != lastVersions {
			lastVersions = v
			if err := o.printWatched(r, printed); err != nil {
				return false, err
			}
			printed++
		}
		return r.Request.Status.OverallPhase.IsTerminal(), nil
	}
	if done, err := refresh(); err != nil || done {
		return err
	}
	var events <-chan watch.Event
	startWatch := func() {
		w, err := c.Watch(ctx, &remediationv1.RemediationRequestList{}, client.InNamespace(ns),
			client.MatchingFields{"metadata.name": name})
		if err != nil {
			events = nil // fall back to the ticker
			return
		}
		events = w.ResultChan()
		context.AfterFunc(ctx, w.Stop)
	}
	startWatch()
	interval := o.WatchInterval
	if interval <= 0 {
		interval = 2 * time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-events:
			if !ok {
				startWatch()
				continue
			}
		case <-ticker.C:
		}
		if done, err := refresh(); err != nil || done {
			return err
		}
	}
}

// versions identifies the state of a remediation: the resourceVersions of all its objects.
func versions(r *Remediation) string {
	parts := []string{r.Request.ResourceVersion}
	add := func(present bool, kind string, m func() metav1.Object) {
		if present {
			parts = append(parts, kind+"="+m().GetResourceVersion())
		}
	}
	add(r.Processing != nil, "rp", func() metav1.Object { return r.Processing })
	add(r.Analysis != nil, "aia", func() metav1.Object { return r.Analysis })
	add(r.Approval != nil, "aiar", func() metav1.Object { return r.Approval })
	add(r.Workflow != nil, "wfe", func() metav1.Object { return r.Workflow })
	add(r.Execution != nil, "ke", func() metav1.Object { return r.Execution })
	for i := range r.Notifications {
		parts = append(parts, r.Notifications[i].Name+"="+r.Notifications[i].ResourceVersion)
	}
	return strings.Join(parts, "/")
}

func (o *Options) printWatched(r *Remediation, printed int) error {
	if printed > 0 {
		switch o.output {
		case "yaml":
			fmt.Fprintln(o.Out, "---")
		case "":
			fmt.Fprintf(o.Out, "\n--- %s: %s ---\n\n", o.Now().UTC().Format(time.RFC3339), orNone(string(r.Request.Status.OverallPhase)))
		}
	}
	if o.structured() {
		return o.printStructured(r)
	}
	var buf bytes.Buffer
	renderRemediation(&buf, r, o.Now())
	_, err := o.Out.Write(buf.Bytes())
	return err
}
