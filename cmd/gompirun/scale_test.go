package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A job of many ranks on one host starts and ends, on shared memory and on TCP, under a
// descriptor limit (hard and soft, ulimit -n) just above what gompirun needs for them; every
// rank is under the same limit. Below what gompirun needs, it says so before it starts a
// rank. CI runs 256 ranks the same way (.ci/run).
func TestManyRanks(t *testing.T) {
	const n = 100
	limit := 4*n + 64 + 16 // gompirun's need (launcher fdsPerRank, fdsMargin) and a little
	buildMu.Lock()
	hello := filepath.Join(t.TempDir(), "hello")
	out, err := exec.Command(goCmd(), "build", "-o", hello, "../../scripts/launchbench/hello").CombinedOutput()
	buildMu.Unlock()
	if err != nil {
		t.Fatalf("go build scripts/launchbench/hello: %v\n%s", err, out)
	}
	for _, tr := range []string{"auto", "tcp"} {
		script := fmt.Sprintf("ulimit -n %d && exec %s --transport %s -n %d %s", limit, gompirunBin, tr, n, hello)
		res := runCmd(t, nil, "/bin/sh", "-c", script)
		if want := fmt.Sprintf("%d %d\n", n, n*(n-1)/2); res.code != 0 || res.stdout != want {
			t.Errorf("%s: exit %d, stdout %q (want %q), stderr %q", script, res.code, res.stdout, want, res.stderr)
		}
	}
	script := fmt.Sprintf("ulimit -n %d && exec %s -n %d %s", 2*n, gompirunBin, n, hello)
	res := runCmd(t, nil, "/bin/sh", "-c", script)
	if res.code != 125 || res.stdout != "" || !strings.Contains(res.stderr, fmt.Sprintf("%d ranks need about %d open files in gompirun", n, 4*n+64)) {
		t.Errorf("%s: exit %d (want 125), stdout %q, stderr %q (want what to raise the limit to)", script, res.code, res.stdout, res.stderr)
	}
}
