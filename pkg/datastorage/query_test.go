package datastorage_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/pkg/datastorage"
	"github.com/kubernaut/kubernaut/pkg/shared/auditapi"
	"github.com/kubernaut/kubernaut/pkg/shared/httpapi"
)

// seedList stores rr-00..rr-11: fingerprints fp-a (even) and fp-b (odd), phases cycling through
// Completed, Failed, Executing, start times one hour apart from baseTime.
func seedList(t *testing.T, e *env) {
	t.Helper()
	for i := range 12 {
		rec := record(fmt.Sprintf("rr-%02d", i))
		rec.AlertFingerprint = []string{"fp-a", "fp-b"}[i%2]
		rec.OverallPhase = []string{"Completed", "Failed", "Executing"}[i%3]
		rec.StartTime = baseTime.Add(time.Duration(i) * time.Hour)
		rec.CompletionTime = nil
		code, body := e.post(rec)
		require.Equal(t, http.StatusCreated, code, string(body))
	}
}

func (e *env) list(q string) datastorage.ListPage {
	e.t.Helper()
	code, body := e.do(http.MethodGet, listPath(q), nil)
	require.Equal(e.t, http.StatusOK, code, string(body))
	return mustUnmarshal[datastorage.ListPage](e.t, body)
}

func TestListFilters(t *testing.T) {
	e := newEnv(t, "")
	seedList(t, e)
	ts := func(h int) string {
		return url.QueryEscape(baseTime.Add(time.Duration(h) * time.Hour).Format(time.RFC3339))
	}
	cases := map[string]struct {
		query string
		want  []string
	}{
		"no filter, newest first": {"", []string{"rr-11", "rr-10", "rr-09", "rr-08", "rr-07", "rr-06", "rr-05", "rr-04", "rr-03", "rr-02", "rr-01", "rr-00"}},
		"fingerprint":             {"fingerprint=fp-b", []string{"rr-11", "rr-09", "rr-07", "rr-05", "rr-03", "rr-01"}},
		"phase":                   {"phase=Failed", []string{"rr-10", "rr-07", "rr-04", "rr-01"}},
		"since":                   {"since=" + ts(9), []string{"rr-11", "rr-10", "rr-09"}},
		"until":                   {"until=" + ts(2), []string{"rr-01", "rr-00"}},
		"since and until":         {"since=" + ts(3) + "&until=" + ts(6), []string{"rr-05", "rr-04", "rr-03"}},
		"all together":            {"fingerprint=fp-a&phase=Completed&since=" + ts(1), []string{"rr-06"}},
		"limit":                   {"limit=2", []string{"rr-11", "rr-10"}},
		"nothing matches":         {"fingerprint=unknown", []string{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			page := e.list(tc.query)
			assert.Equal(t, tc.want, names(page.Items))
		})
	}

	t.Run("items carry their service statuses", func(t *testing.T) {
		page := e.list("fingerprint=fp-a&limit=1")
		require.Len(t, page.Items, 1)
		assert.Len(t, page.Items[0].ServiceCRDStatuses, 2)
	})
}

func TestListPaginationIsStableWhileRowsAreAdded(t *testing.T) {
	e := newEnv(t, "")
	const existing = 50
	for i := range existing {
		rec := record(fmt.Sprintf("old-%03d", i))
		rec.AlertFingerprint = "fp-page"
		code, body := e.post(rec)
		require.Equal(t, http.StatusCreated, code, string(body))
	}

	// Between every two pages, new records arrive and old ones are updated (a later phase).
	seen := map[string]int{}
	cursor, pages, added := "", 0, 0
	for {
		q := "fingerprint=fp-page&limit=7"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		page := e.list(q)
		pages++
		for _, a := range page.Items {
			seen[a.RemediationName]++
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
		require.Less(t, pages, 100, "paging must end")
		for range 3 {
			rec := record(fmt.Sprintf("new-%03d", added))
			rec.AlertFingerprint = "fp-page"
			code, body := e.post(rec)
			require.Equal(t, http.StatusCreated, code, string(body))
			added++
		}
		for _, i := range []int{pages * 3 % existing, existing - 1 - pages} {
			upd := record(fmt.Sprintf("old-%03d", i))
			upd.AlertFingerprint, upd.OverallPhase, upd.PhaseSequence = "fp-page", "Completed", int64(100+pages)
			code, body := e.post(upd)
			require.Equal(t, http.StatusOK, code, string(body))
		}
	}

	for name, n := range seen {
		assert.Equal(t, 1, n, "%s returned once", name)
	}
	for i := range existing {
		assert.Contains(t, seen, fmt.Sprintf("old-%03d", i), "every record that existed before paging is returned")
	}
	assert.Equal(t, 8, pages, "50 records in pages of 7")
	assert.Equal(t, 21, added)
}

func TestHostileFilterValues(t *testing.T) {
	e := newEnv(t, "")
	seedList(t, e)
	ok := map[string]string{
		"quote injection in fingerprint":  "fingerprint=" + url.QueryEscape("fp-a' OR '1'='1"),
		"statement injection":             "fingerprint=" + url.QueryEscape("x'; DROP TABLE remediation_audit; --"),
		"percent and underscore wildcard": "fingerprint=" + url.QueryEscape("fp-%") + "&limit=5",
		"backslashes":                     "fingerprint=" + url.QueryEscape(`fp-a\\'`),
		"unicode":                         "fingerprint=" + url.QueryEscape("fp-ä😀"),
	}
	for name, q := range ok {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, e.list(q).Items, "hostile values match nothing literally")
		})
	}
	bad := map[string]struct {
		query  string
		detail string
	}{
		"NUL byte":          {"fingerprint=a%00b", "fingerprint contains a NUL character"},
		"invalid UTF-8":     {"fingerprint=%ff%fe", "fingerprint is not valid UTF-8"},
		"very long":         {"fingerprint=" + strings.Repeat("a", 600), "fingerprint is longer than 512 bytes"},
		"unknown phase":     {"phase=" + url.QueryEscape("Completed' --"), `phase "Completed' --" is not a RemediationRequest phase`},
		"negative limit":    {"limit=-1", `limit must be an integer from 1 to 1000, not "-1"`},
		"huge limit":        {"limit=99999999999999999999", `limit must be an integer from 1 to 1000, not "99999999999999999999"`},
		"limit as SQL":      {"limit=" + url.QueryEscape("1; SELECT 1"), `limit must be an integer from 1 to 1000, not "1; SELECT 1"`},
		"forged cursor":     {"cursor=" + url.QueryEscape("id:0 OR 1=1"), "cursor is not one this service issued"},
		"since not a time":  {"since=yesterday", `since must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not "yesterday"`},
		"unknown parameter": {"namespace=prod", `unknown parameter "namespace" (known: fingerprint, phase, since, until, limit, cursor)`},
		"repeated":          {"phase=Failed&phase=Completed", `parameter "phase" is given more than once`},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			code, body := e.do(http.MethodGet, listPath(tc.query), nil)
			require.Equal(t, http.StatusBadRequest, code, string(body))
			assert.Contains(t, mustUnmarshal[httpapi.ErrorBody](t, body).Details, tc.detail)
		})
	}
	t.Run("hostile path name", func(t *testing.T) {
		code, _ := e.do(http.MethodGet, auditapi.RemediationPath+"/"+url.PathEscape("x' OR '1'='1"), nil)
		assert.Equal(t, http.StatusNotFound, code)
	})
	t.Run("hostile effectiveness values", func(t *testing.T) {
		eff := e.effectiveness("HighMemoryUsage' OR '1'='1", "increase_resources\"}]")
		assert.Equal(t, int64(0), eff.Total)
	})
	assert.Len(t, e.list("").Items, 12, "the table is intact")
}
