package delivery

import (
	"regexp"
	"strings"
)

// Redacted replaces every secret the redactor finds.
const Redacted = "[REDACTED]"

var redactions = []struct {
	re   *regexp.Regexp
	repl string
}{
	// PEM private keys, whole block.
	{regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`), Redacted},
	// Authorization headers and bearer tokens.
	{regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*`), "${1} " + Redacted},
	// Credentials in URLs: scheme://user:password@host.
	{regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@`), "${1}" + Redacted + "@"},
	// Well-known token formats.
	{regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`), Redacted},                              // Slack tokens
	{regexp.MustCompile(`https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+`), Redacted},           // Slack webhook URLs
	{regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{30,}`), Redacted},                                 // GitHub tokens
	{regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`), Redacted},                                  // AWS access key IDs
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`), Redacted}, // JWTs (service-account tokens)
	{regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{20,}`), Redacted},                                      // API keys of LLM providers
	// key=value and key: value pairs whose key names a secret ("password: x", "api_key=y", `"token":"z"`).
	{regexp.MustCompile(`(?i)("?\b[a-z0-9_.-]*(password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|routing[_-]?key)"?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&}]+)`), "${1}" + Redacted},
}

// secretKindRE finds Kubernetes Secret manifests, whose data and stringData are redacted.
var (
	secretKindRE    = regexp.MustCompile(`(?i)"?kind"?\s*:\s*"?Secret\b`)
	secretJSONData  = regexp.MustCompile(`("(data|stringData)"\s*:\s*)\{[^{}]*\}`)
	secretYAMLStart = regexp.MustCompile(`^(\s*)(data|stringData):\s*$`)
	yamlKeyValue    = regexp.MustCompile(`^(\s*[^:\s]+:)\s*\S.*$`)
)

// Redactor removes secrets from text before it leaves the service: patterns above, the data of
// Kubernetes Secret manifests, and the literal values of the service's own credentials.
type Redactor struct {
	literals []string
}

// NewRedactor returns a redactor that also removes the given literal values (credentials
// the service itself holds; empty values are ignored).
func NewRedactor(literals ...string) *Redactor {
	r := &Redactor{}
	for _, l := range literals {
		if len(l) >= 4 {
			r.literals = append(r.literals, l)
		}
	}
	return r
}

// Redact returns s with every secret replaced by [REDACTED].
func (r *Redactor) Redact(s string) string {
	if s == "" {
		return s
	}
	for _, l := range r.literals {
		s = strings.ReplaceAll(s, l, Redacted)
	}
	if secretKindRE.MatchString(s) {
		s = secretJSONData.ReplaceAllString(s, `${1}{"`+Redacted+`":""}`)
		s = redactYAMLSecretData(s)
	}
	for _, x := range redactions {
		s = x.re.ReplaceAllString(s, x.repl)
	}
	return s
}

// RedactMap redacts every value of m into a new map.
func (r *Redactor) RedactMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = r.Redact(v)
	}
	return out
}

// redactYAMLSecretData replaces the values below "data:" and "stringData:" blocks.
func redactYAMLSecretData(s string) string {
	lines := strings.Split(s, "\n")
	inBlock, indent := false, 0
	for i, line := range lines {
		if m := secretYAMLStart.FindStringSubmatch(line); m != nil {
			inBlock, indent = true, len(m[1])
			continue
		}
		if !inBlock {
			continue
		}
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" {
			continue
		}
		if len(line)-len(trimmed) <= indent {
			inBlock = false
			continue
		}
		if m := yamlKeyValue.FindStringSubmatch(line); m != nil {
			lines[i] = m[1] + " " + Redacted
		}
	}
	return strings.Join(lines, "\n")
}
