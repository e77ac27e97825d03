package orchestrator_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// alertmanagerStandIn serves GET /api/v2/alerts as Alertmanager does: the active, silenced,
// inhibited and unprocessed flags (true when absent) select alerts by state, each filter is a
// label matcher (=, !=, =~, !~, regular expressions anchored) that every returned alert matches,
// a malformed matcher is answered 400, and resolved alerts (endsAt in the past) are never
// returned. It records the filters of each query.
type alertmanagerStandIn struct {
	srv     *httptest.Server
	mu      sync.Mutex
	alerts  []amAlert
	queries [][]string
}

type amAlert struct {
	labels         map[string]string
	startsAt       time.Time
	endsAt         time.Time
	silencedBy     []string
	inhibitedBy    []string
	unprocessedYet bool
}

func newAlertmanagerStandIn(t testing.TB) *alertmanagerStandIn {
	a := &alertmanagerStandIn{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/alerts", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		flag := func(name string) (bool, error) {
			v := q.Get(name)
			if v == "" {
				return true, nil
			}
			return strconv.ParseBool(v)
		}
		flags := map[string]bool{}
		for _, name := range []string{"active", "silenced", "inhibited", "unprocessed"} {
			v, err := flag(name)
			if err != nil {
				http.Error(w, fmt.Sprintf("%s in query must be of type boolean: %q", name, q.Get(name)), http.StatusBadRequest)
				return
			}
			flags[name] = v
		}
		var matchers []amMatcher
		for _, f := range q["filter"] {
			m, err := parseAMMatcher(f)
			if err != nil {
				http.Error(w, `"bad matcher format: `+f+`"`, http.StatusBadRequest)
				return
			}
			matchers = append(matchers, m)
		}
		a.mu.Lock()
		a.queries = append(a.queries, q["filter"])
		alerts := append([]amAlert(nil), a.alerts...)
		a.mu.Unlock()
		now := time.Now()
		out := []map[string]any{}
	next:
		for _, al := range alerts {
			if !al.endsAt.IsZero() && al.endsAt.Before(now) {
				continue
			}
			state := "active"
			switch {
			case al.unprocessedYet:
				state = "unprocessed"
			case len(al.silencedBy) > 0 || len(al.inhibitedBy) > 0:
				state = "suppressed"
			}
			switch {
			case state == "active" && !flags["active"], state == "unprocessed" && !flags["unprocessed"],
				len(al.silencedBy) > 0 && !flags["silenced"], len(al.inhibitedBy) > 0 && !flags["inhibited"]:
				continue
			}
			for _, m := range matchers {
				if !m.matches(al.labels) {
					continue next
				}
			}
			endsAt := al.endsAt
			if endsAt.IsZero() {
				endsAt = now.Add(4 * time.Minute)
			}
			out = append(out, map[string]any{
				"labels": al.labels, "annotations": map[string]string{}, "startsAt": al.startsAt.UTC().Format(time.RFC3339Nano),
				"endsAt": endsAt.UTC().Format(time.RFC3339Nano), "updatedAt": now.UTC().Format(time.RFC3339Nano),
				"fingerprint": fmt.Sprintf("%016x", len(out)+1), "receivers": []map[string]string{{"name": "kubernaut"}},
				"generatorURL": "http://prometheus:9090/graph",
				"status":       map[string]any{"state": state, "silencedBy": nonNil(al.silencedBy), "inhibitedBy": nonNil(al.inhibitedBy)},
			})
		}
		writeJSON(w, http.StatusOK, out)
	})
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *alertmanagerStandIn) set(alerts ...amAlert) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alerts = alerts
}

func (a *alertmanagerStandIn) filters() [][]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]string(nil), a.queries...)
}

type amMatcher struct {
	name, op, value string
	re              *regexp.Regexp
}

var amMatcherRE = regexp.MustCompile(`^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$`)

func parseAMMatcher(s string) (amMatcher, error) {
	g := amMatcherRE.FindStringSubmatch(s)
	if g == nil {
		return amMatcher{}, fmt.Errorf("bad matcher format: %s", s)
	}
	v := strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n").Replace(g[3])
	m := amMatcher{name: g[1], op: g[2], value: v}
	if m.op == "=~" || m.op == "!~" {
		re, err := regexp.Compile("^(?:" + v + ")$")
		if err != nil {
			return amMatcher{}, err
		}
		m.re = re
	}
	return m, nil
}

func (m amMatcher) matches(labels map[string]string) bool {
	v := labels[m.name]
	switch m.op {
	case "=":
		return v == m.value
	case "!=":
		return v != m.value
	case "=~":
		return m.re.MatchString(v)
	default:
		return !m.re.MatchString(v)
	}
}
