package main

import (
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gompi/gompi/internal/trace"
)

// psumBin is examples/psum, built once by psum.
var psumBin struct {
	once sync.Once
	path string
	err  error
}

// psum returns the path of a built examples/psum.
func psum(t *testing.T) string {
	t.Helper()
	psumBin.once.Do(func() {
		psumBin.path = filepath.Join(filepath.Dir(gompirunBin), "psum")
		out, err := exec.Command(goCmd(), "build", "-o", psumBin.path, "../../examples/psum").CombinedOutput()
		if err != nil {
			psumBin.err = &buildError{err, string(out)}
		}
	})
	if psumBin.err != nil {
		t.Fatal(psumBin.err)
	}
	return psumBin.path
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build examples/psum: " + e.err.Error() + "\n" + e.out }

// checkTrace checks the trace file name as Perfetto would need it, with ranks 0..n-1, an
// Allreduce slice on every rank and messages between them.
func checkTrace(t *testing.T, name string, n int) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := trace.CheckChrome(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(sum.Ranks) != n {
		t.Errorf("%s: ranks %v, want %d", name, sum.Ranks, n)
	}
	for _, r := range sum.Ranks {
		if sum.Slices[r]["Allreduce"] != 1 || sum.Slices[r]["Scatterv"] != 1 {
			t.Errorf("%s: rank %d has slices %v, want one Allreduce and one Scatterv", name, r, sum.Slices[r])
		}
	}
	// Scatterv from rank 0 to each other rank, then Allreduce's exchanges.
	if sum.Flows < n-1 {
		t.Errorf("%s: %d messages", name, sum.Flows)
	}
}

func checkPNG(t *testing.T, name string) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// TestTrace: the acceptance command writes a trace Perfetto loads (ranks named, an
// Allreduce slice on every rank, messages with both ends, forward in time) and a PNG, and
// leaves no part behind; over TCP too, and with --timeline alone.
func TestTrace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prog := psum(t)
	for _, transport := range []string{"auto", "tcp"} {
		out, pic := filepath.Join(dir, transport+".json"), filepath.Join(dir, transport+".png")
		res := gompirun(t, "", "-n", "4", "--transport", transport, "--trace", out, "--timeline", pic, prog)
		if res.code != 0 {
			t.Fatalf("%s: exit code %d; stderr %q", transport, res.code, res.stderr)
		}
		if !strings.Contains(res.stderr, "gompirun: trace: 4 ranks") || !strings.Contains(res.stderr, "gompirun: timeline of 4 ranks in "+pic) {
			t.Errorf("%s: stderr %q does not report the trace and the timeline", transport, res.stderr)
		}
		checkTrace(t, out, 4)
		checkPNG(t, pic)
		if parts, _ := trace.FindParts(out); len(parts) != 0 {
			t.Errorf("%s: parts left behind: %v", transport, parts)
		}
	}
	pic := filepath.Join(dir, "only.png")
	if res := gompirun(t, "", "-n", "3", "--timeline", pic, prog); res.code != 0 {
		t.Fatalf("--timeline alone: exit code %d; stderr %q", res.code, res.stderr)
	}
	checkPNG(t, pic)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "only") && e.Name() != "only.png" {
			t.Errorf("--timeline alone left %s", e.Name())
		}
	}
}

// TestTraceMerge: ranks given GOMPI_TRACE themselves leave their parts, which trace-merge
// merges (keeping them).
func TestTraceMerge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "m.json")
	res := gompirun(t, "", "-n", "3", "-x", "GOMPI_TRACE="+out, psum(t))
	if res.code != 0 {
		t.Fatalf("exit code %d; stderr %q", res.code, res.stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s exists before trace-merge", out)
	}
	parts, err := trace.FindParts(out)
	if err != nil || len(parts) != 3 {
		t.Fatalf("parts %v, %v; want 3", parts, err)
	}
	pic := filepath.Join(dir, "m.png")
	if res := gompirun(t, "", "trace-merge", "--timeline", pic, out); res.code != 0 {
		t.Fatalf("trace-merge: exit code %d; stderr %q", res.code, res.stderr)
	}
	checkTrace(t, out, 3)
	checkPNG(t, pic)
	if again, _ := trace.FindParts(out); len(again) != 3 {
		t.Errorf("trace-merge removed parts: %v left", again)
	}
	if res := gompirun(t, "", "trace-merge", filepath.Join(dir, "none.json")); res.code == 0 || !strings.Contains(res.stderr, "none.json.rank-N.part") {
		t.Errorf("trace-merge without parts: exit code %d, stderr %q", res.code, res.stderr)
	}
}

// TestTraceUsage: tracing flags that cannot work are refused before anything starts.
func TestTraceUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--trace", "t.json", "--mpi", "-n", "2", "true"},
		{"--timeline", "t.gif", "-n", "2", "true"},
		{"trace-merge"},
		{"trace-merge", "--timeline", "x.bmp", "t.json"},
	} {
		res := gompirun(t, "", args...)
		if res.code != 2 {
			t.Errorf("gompirun %q: exit code %d, want 2; stderr %q", args, res.code, res.stderr)
		}
	}
}
