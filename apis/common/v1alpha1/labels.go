package v1alpha1

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// LabelRemediationRequest is on every child of a RemediationRequest (processing, analysis,
// workflow, execution and notification requests); its value is LabelValue(request name). The
// orchestrator's child caches select on it.
const LabelRemediationRequest = "kubernaut.io/remediation-request"

// LabelNamespaceEnvironment on a namespace names its environment (production, staging, ...);
// the gateway and the processing service read it.
const LabelNamespaceEnvironment = "kubernaut.io/environment"

// LabelValue returns s when it is a valid label value, and otherwise a valid value that stands
// for s alone: the start of s (its label-safe characters) and a hash of all of it, at most 63
// characters. A RemediationRequest name can hold 253 characters; a label value only 63.
func LabelValue(s string) string {
	if len(validation.IsValidLabelValue(s)) == 0 {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	hash := hex.EncodeToString(sum[:5])
	var b strings.Builder
	for _, r := range s {
		if b.Len() == validation.LabelValueMaxLength-len(hash)-1 {
			break
		}
		if r < 0x80 && (r == '-' || r == '_' || r == '.' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			b.WriteRune(r)
		}
	}
	prefix := strings.TrimLeft(b.String(), "-_.")
	if prefix == "" {
		return hash
	}
	return prefix + "-" + hash
}
