//go:build mpi

package mpi_test

import (
	"strings"
	"testing"

	"github.com/gompi/gompi/internal/slurmtest"
)

// Acceptance 3 of issue 16: the -tags mpi build under srun is one job or fails with one line
// on every task, never N singletons. --mpi=pmi2 joins through gompi's PMI client, --mpi=pmix
// through OpenMPI, --mpi=none fails.
func TestSrunMPIBuild(t *testing.T) {
	if world != nil {
		t.Skip("runs in the test launcher, not in an mpirun rank")
	}
	slurmtest.NeedSlurm(t)
	bin := slurmtest.Build(t, "github.com/gompi/gompi/examples/matvec", "-tags", "mpi")

	r := slurmtest.Run(t, nil, "srun", "-n", "4", "--overcommit", "--mpi=none", bin)
	want := "gompi: comm: started by srun with 4 tasks but without PMI: use srun --mpi=pmi2 or srun --mpi=pmix"
	if r.Code == 0 || slurmtest.Count(r.Stderr, want) != 4 || strings.Contains(r.Stdout, "max |y") {
		t.Errorf("srun --mpi=none: exit %d, want non-zero and 4 times %q\nstdout:\n%s\nstderr:\n%s", r.Code, want, r.Stdout, r.Stderr)
	}

	for _, m := range []string{"pmi2", "pmix"} {
		r := slurmtest.Run(t, nil, "srun", "-n", "4", "--overcommit", "--mpi="+m, bin, "-n", "100")
		if m == "pmix" && r.Code != 0 && !strings.Contains(r.Stderr, "gompi:") {
			t.Logf("SKIP srun --mpi=pmix: this Slurm cannot serve PMIx here: %s", r.Stderr)
			continue
		}
		if r.Code != 0 {
			t.Errorf("srun --mpi=%s: exit %d\nstderr:\n%s", m, r.Code, r.Stderr)
			continue
		}
		if err := slurmtest.Residual(r.Stdout); err != nil {
			t.Errorf("srun --mpi=%s: %v", m, err)
		}
	}
}
