// Package make checks the Makefile's verify target against what the other targets do: every
// file `make generate` writes must be checked by `make verify`, and verify must refuse a
// binary that links test-only code.
package make

import (
	"os/exec"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubernaut/kubernaut/internal/testutil/testenv"
)

// dryRun prints the commands of a make target without running them.
func dryRun(t *testing.T, target string) string {
	t.Helper()
	cmd := exec.Command("make", "-n", target)
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make -n %s: %s", target, out)
	return string(out)
}

var (
	cdRE    = regexp.MustCompile(`^cd (\S+) && `)
	pathsRE = regexp.MustCompile(`paths=(\S+)`)
)

func TestVerifyChecksEveryGeneratedFile(t *testing.T) {
	var generated []string
	for _, line := range strings.Split(dryRun(t, "generate"), "\n") {
		if !strings.Contains(line, "controller-gen") {
			continue
		}
		dir := "."
		if m := cdRE.FindStringSubmatch(line); m != nil {
			dir = m[1]
		}
		for _, m := range pathsRE.FindAllStringSubmatch(line, -1) {
			generated = append(generated, path.Clean(path.Join(dir, strings.TrimSuffix(m[1], "..."))))
		}
	}
	require.NotEmpty(t, generated, "make generate runs controller-gen")

	var checked []string
	for _, line := range strings.Split(dryRun(t, "verify"), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimLeft(line, "@ \t"), "git diff --exit-code -- "); ok {
			checked = strings.Fields(strings.Split(rest, "||")[0])
		}
	}
	require.NotEmpty(t, checked, "make verify diffs the generated files")
	for _, g := range generated {
		covered := false
		for _, c := range checked {
			if g == c || strings.HasPrefix(g, strings.TrimSuffix(c, "/")+"/") {
				covered = true
			}
		}
		assert.True(t, covered, "make generate writes %s, which make verify does not diff (it checks %v)", g, checked)
	}
}

func TestVerifyRefusesBinariesLinkingTestCode(t *testing.T) {
	verify := dryRun(t, "verify")
	assert.Contains(t, verify, "go list -deps ./cmd/...")
	assert.Contains(t, verify, "internal/testutil")
}
