package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMPIMode: --mpi builds a package with -tags mpi and runs it under OpenMPI's mpirun, as
// root and oversubscribed without extra flags; a failing rank's exit code comes back.
func TestMPIMode(t *testing.T) {
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("OpenMPI's mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
	}
	if testing.Short() {
		t.Skip("builds and runs an OpenMPI job")
	}
	r := gompirun(t, "", "--mpi", "-n", "3", "../../examples/sendrecv")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var v0, v1 string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "rank = 0 , data = [0") {
			v0 = strings.TrimPrefix(l, "rank = 0")
		}
		if strings.HasPrefix(l, "rank = 1 , data = [0") {
			v1 = strings.TrimPrefix(l, "rank = 1")
		}
	}
	if v0 == "" || v0 != v1 {
		t.Errorf("ranks 0 and 1 printed different buffers:\n%s", r.stdout)
	}
	// One rank: the example refuses, and the job's exit code says so.
	r = gompirun(t, "", "--mpi", "-n", "1", "../../examples/sendrecv")
	if r.code == 0 || !strings.Contains(r.stderr, "needs at least 2 ranks") {
		t.Errorf("1 rank under --mpi: exit %d, stderr %q", r.code, r.stderr)
	}
}
