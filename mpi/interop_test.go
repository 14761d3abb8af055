//go:build mpi

package mpi_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInteropWithC runs an MPMD job, `mpirun -n 1 gopeer : -n 1 peer`, in which a gompi program
// (testdata/gopeer, built with -tags mpi) and a C program (testdata/peer.c, built with mpicc)
// exchange a float64 array with Send/Recv and combine values with MPI_Allreduce. Each side checks
// what it gets and exits non-zero on a mismatch. It runs in the launcher process only.
func TestInteropWithC(t *testing.T) {
	if world != nil {
		t.Skip("starts its own job; runs in the launcher")
	}
	for _, tool := range []string{"mpicc", "mpirun", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: %v", tool, err)
		}
	}
	dir := t.TempDir()
	peer, gopeer := filepath.Join(dir, "peer"), filepath.Join(dir, "gopeer")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("mpicc", "-O2", "-o", peer, filepath.Join("testdata", "peer.c"))
	goArgs := []string{"build", "-tags", "mpi", "-o", gopeer}
	if raceEnabled {
		goArgs = append(goArgs, "-race")
	}
	run("go", append(goArgs, "./testdata/gopeer")...)
	out := run("mpirun", mpirunArgs("-n", "1", gopeer, ":", "-n", "1", peer)...)
	for _, want := range []string{"gopeer: ok", "peer.c: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("MPMD job output lacks %q:\n%s", want, out)
		}
	}
	_ = os.Remove(peer)
}
