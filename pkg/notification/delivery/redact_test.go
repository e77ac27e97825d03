package delivery_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/kubernaut/kubernaut/pkg/notification/delivery"
)

func TestRedact(t *testing.T) {
	tests := map[string]struct {
		in      string
		secrets []string // must be gone
		keep    []string // must stay
	}{
		"bearer header": {
			in: "curl -H 'Authorization: Bearer abcdefghijklmnop.qrstuvwxyz' http://svc", secrets: []string{"abcdefghijklmnop.qrstuvwxyz"},
			keep: []string{"Authorization: Bearer [REDACTED]", "http://svc"},
		},
		"password pair":       {in: "db password=hunter2, user=app", secrets: []string{"hunter2"}, keep: []string{"user=app", "password=[REDACTED]"}},
		"json token":          {in: `{"token": "s3cr3t-value", "name": "x"}`, secrets: []string{"s3cr3t-value"}, keep: []string{`"name": "x"`}},
		"yaml api key":        {in: "api_key: AbC123xyz\nreplicas: 3", secrets: []string{"AbC123xyz"}, keep: []string{"replicas: 3"}},
		"url credentials":     {in: "connect postgres://app:pa55word@db:5432/x", secrets: []string{"pa55word", "app:"}, keep: []string{"@db:5432/x"}},
		"slack token":         {in: "leaked xoxb-123456789012-abcdefABCDEF here", secrets: []string{"xoxb-123456789012-abcdefABCDEF"}, keep: []string{"leaked", "here"}},
		"slack webhook url":   {in: "hook https://hooks.slack.com/services/T1/B2/xyzXYZ", secrets: []string{"T1/B2/xyzXYZ"}},
		"github token":        {in: "ghp_abcdefghijklmnopqrstuvwxyz0123456789", secrets: []string{"ghp_abcdefghijklmnopqrstuvwxyz0123456789"}},
		"aws key":             {in: "key AKIAIOSFODNN7EXAMPLE used", secrets: []string{"AKIAIOSFODNN7EXAMPLE"}},
		"service-account jwt": {in: "tok eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJlLXZhbHVl end", secrets: []string{"eyJhbGciOiJSUzI1NiJ9"}, keep: []string{"end"}},
		"private key": {
			in:      "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\nafter",
			secrets: []string{"MIIEowIBAAKCAQEA"}, keep: []string{"after"},
		},
		"secret manifest yaml": {
			in:      "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  username: YWRtaW4=\n  dbpass: cGFzc3dvcmQ=\ntype: Opaque",
			secrets: []string{"YWRtaW4=", "cGFzc3dvcmQ="}, keep: []string{"name: db", "type: Opaque", "username: [REDACTED]"},
		},
		"secret manifest json": {
			in:      `{"kind":"Secret","metadata":{"name":"db"},"data":{"dbpass":"cGFzc3dvcmQ="}}`,
			secrets: []string{"cGFzc3dvcmQ="}, keep: []string{`"name":"db"`},
		},
		"configmap data stays": {in: "kind: ConfigMap\ndata:\n  mode: fast", keep: []string{"mode: fast"}},
		"plain text stays":     {in: "Pod web-1 OOMKilled 5 times; memory limit 256Mi", keep: []string{"Pod web-1 OOMKilled 5 times; memory limit 256Mi"}},
	}
	r := delivery.NewRedactor()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := r.Redact(tc.in)
			for _, s := range tc.secrets {
				assert.NotContains(t, got, s)
			}
			for _, k := range tc.keep {
				assert.Contains(t, got, k)
			}
			if len(tc.secrets) > 0 {
				assert.Contains(t, got, delivery.Redacted)
			}
		})
	}
	t.Run("literal credentials", func(t *testing.T) {
		got := delivery.NewRedactor("my-routing-key-value", "").Redact("sent with my-routing-key-value")
		assert.Equal(t, "sent with [REDACTED]", got)
	})
}
