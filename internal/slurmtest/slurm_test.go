package slurmtest

import (
	"strings"
	"testing"
)

const matvec = "github.com/gompi/gompi/examples/matvec"

// Acceptance 1 of issue 16: the default build under srun --mpi=pmi2 is one 4-rank job (PMI-2,
// and PMI-1 when asked for).
func TestSrunPMI2RunsOneJob(t *testing.T) {
	NeedSlurm(t)
	bin := Build(t, matvec)
	for _, v := range []string{"", "1"} {
		var env []string
		if v != "" {
			env = []string{"GOMPI_PMI_VERSION=" + v}
		}
		r := Run(t, env, "srun", "-n", "4", "--overcommit", "--mpi=pmi2", bin)
		if r.Code != 0 {
			t.Fatalf("srun --mpi=pmi2 (GOMPI_PMI_VERSION=%q): exit %d\nstderr:\n%s", v, r.Code, r.Stderr)
		}
		if err := Residual(r.Stdout); err != nil {
			t.Errorf("GOMPI_PMI_VERSION=%q: %v", v, err)
		}
	}
}

// Acceptance 2: without PMI, every task fails with the one-line explanation, never 4 singletons.
func TestSrunWithoutPMIFails(t *testing.T) {
	NeedSlurm(t)
	bin := Build(t, matvec)
	r := Run(t, nil, "srun", "-n", "4", "--overcommit", "--mpi=none", bin)
	want := "gompi: comm: started by srun with 4 tasks but without PMI: use srun --mpi=pmi2, or build with -tags mpi and srun --mpi=pmix"
	if r.Code == 0 || Count(r.Stderr, want) != 4 || strings.Contains(r.Stdout, "max |y") {
		t.Fatalf("srun --mpi=none: exit %d, want non-zero and 4 times %q on stderr and no result\nstdout:\n%s\nstderr:\n%s", r.Code, want, r.Stdout, r.Stderr)
	}
}

// srun --mpi=pmix serves PMIx, which only the -tags mpi build speaks.
func TestSrunPMIxDefaultBuildFails(t *testing.T) {
	NeedSlurm(t)
	bin := Build(t, matvec)
	r := Run(t, nil, "srun", "-n", "2", "--overcommit", "--mpi=pmix", bin)
	if r.Code != 0 && !strings.Contains(r.Stderr, "gompi:") {
		t.Skipf("SKIP: this Slurm has no PMIx plugin: %s", r.Stderr)
	}
	want := "gompi: comm: started by srun --mpi=pmix as task 1 of 2, but this program was built without -tags mpi, and gompi speaks PMI, not PMIx: use srun --mpi=pmi2, or build with -tags mpi"
	if r.Code == 0 || Count(r.Stderr, want) != 1 || strings.Contains(r.Stdout, "max |y") {
		t.Fatalf("srun --mpi=pmix: exit %d, want non-zero and %q on stderr\nstdout:\n%s\nstderr:\n%s", r.Code, want, r.Stdout, r.Stderr)
	}
}

// Acceptance 2, mpirun: the default build fails with the explanation. mpirun ends the other
// ranks once one fails, so not every rank need get to say it, but none runs alone.
func TestMpirunDefaultBuildFails(t *testing.T) {
	NeedMpirun(t)
	bin := Build(t, matvec)
	r := Run(t, nil, "mpirun", "--oversubscribe", "-n", "4", bin)
	found := 0
	for _, l := range strings.Split(r.Stderr, "\n") {
		if strings.HasPrefix(l, "gompi: comm: started by OpenMPI's mpirun as rank ") &&
			strings.HasSuffix(l, " of 4, but this program was built without -tags mpi: run it with gompirun, or build with -tags mpi") {
			found++
		} else if strings.HasPrefix(l, "gompi:") {
			t.Errorf("unexpected gompi line: %q", l)
		}
	}
	if r.Code == 0 || found == 0 || strings.Contains(r.Stdout, "max |y") {
		t.Fatalf("mpirun -n 4: exit %d, want non-zero with the explanation and no result\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

// One task fails right after Init under srun --mpi=pmi2: the others end with an error naming
// it, and srun exits non-zero, without a hang.
func TestSrunTaskFailureEndsJob(t *testing.T) {
	NeedSlurm(t)
	bin := Build(t, "./testdata/failer")
	r := Run(t, nil, "srun", "-n", "4", "--overcommit", "--mpi=pmi2", bin)
	if r.Code == 0 {
		t.Fatalf("srun exited 0\nstderr:\n%s", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "gompi: rank 2: rank 2 fails on purpose") {
		t.Errorf("stderr lacks rank 2's own error:\n%s", r.Stderr)
	}
	for _, rank := range []string{"0", "1", "3"} {
		if !strings.Contains(r.Stderr, "gompi: rank "+rank+": comm: Recv from rank 2") {
			t.Errorf("stderr lacks rank %s's error naming rank 2:\n%s", rank, r.Stderr)
		}
	}
}

// A task that exits before Init: the others, waiting at the PMI fence, end the job after
// GOMPI_PMI_TIMEOUT rather than wait for it forever.
func TestSrunTaskExitsBeforeInit(t *testing.T) {
	NeedSlurm(t)
	bin := Build(t, matvec)
	r := Run(t, []string{"GOMPI_PMI_TIMEOUT=2s"}, "srun", "-n", "4", "--overcommit", "--mpi=pmi2",
		"/bin/sh", "-c", `if [ "$SLURM_PROCID" = 3 ]; then exit 5; fi; exec "$0"`, bin)
	if r.Code == 0 || !strings.Contains(r.Stderr, "not every one of the 4 tasks reached Init within 2s (GOMPI_PMI_TIMEOUT)") {
		t.Fatalf("srun: exit %d, want non-zero and the fence timeout on stderr\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

// A task that cannot join after the PMI exchange says why, once, and ends the step through PMI
// abort; the others, waiting for it, are ended by Slurm.
func TestSrunJoinFailureAborts(t *testing.T) {
	NeedSlurm(t)
	bin := Build(t, matvec)
	r := Run(t, nil, "srun", "-n", "4", "--overcommit", "--mpi=pmi2",
		"/bin/sh", "-c", `if [ "$SLURM_PROCID" = 2 ]; then export GOMPI_TRANSPORT=bogus; fi; exec "$0"`, bin)
	want := `gompi: comm: rank 2: join the job of the PMI launcher: bootstrap: GOMPI_TRANSPORT="bogus": want one of [auto shm tcp] (ending the job: PMI abort)`
	if r.Code == 0 || Count(r.Stderr, want) != 1 || strings.Contains(r.Stdout, "max |y") {
		t.Fatalf("srun: exit %d, want non-zero and once %q\nstdout:\n%s\nstderr:\n%s", r.Code, want, r.Stdout, r.Stderr)
	}
}
