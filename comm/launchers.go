package comm

import (
	"fmt"
	"strconv"
)

// launcherError is Init's refusal to run as a one-rank world in a process that another
// launcher started as one of several: one line saying what was found and what to do.
type launcherError struct{ msg string }

func (e *launcherError) Error() string { return e.msg }

// Unwrap makes errors.Is(err, ErrLauncher) hold.
func (e *launcherError) Unwrap() error { return ErrLauncher }

// otherLauncher looks, in the environment read through get, for the variables other launchers
// give the processes they start, once Init has found none it can join (gompirun's, PMI_FD or
// PMI_PORT, and in a -tags mpi build OpenMPI's). If they say this process is one of several,
// it returns the error Init fails with; a one-rank world would silently run the program as
// that many separate jobs. Variables that say the job has one process, or none of them, give
// nil: a plain ./prog, or a batch script's shell (SLURM_NTASKS alone), runs as one rank.
func otherLauncher(get func(string) string) error {
	fail := func(format string, args ...any) error {
		return &launcherError{msg: "comm: " + fmt.Sprintf(format, args...)}
	}
	num := func(name string) (int, bool) {
		n, err := strconv.Atoi(get(name))
		return n, err == nil
	}
	// of words "as rank R of N" from whichever of the two is known.
	of := func(what string, rank int, rankOK bool, size int, sizeOK bool) string {
		switch {
		case rankOK && sizeOK:
			return fmt.Sprintf("as %s %d of %d", what, rank, size)
		case sizeOK:
			return fmt.Sprintf("as one of %d processes", size)
		default:
			return fmt.Sprintf("as %s %d", what, rank)
		}
	}
	several := func(rank int, rankOK bool, size int, sizeOK bool) bool {
		return (sizeOK && size > 1) || (rankOK && rank > 0) || (rankOK && !sizeOK)
	}
	withoutMPI := "this program was built without -tags mpi"
	if builtWithMPI {
		withoutMPI = "this program's OpenMPI did not start with it"
	}
	stepTasks, inStep := num("SLURM_STEP_NUM_TASKS")

	// OpenMPI's mpirun (it also sets PMIX_RANK: look at its own variables first).
	rank, rankOK := num("OMPI_COMM_WORLD_RANK")
	size, sizeOK := num("OMPI_COMM_WORLD_SIZE")
	if several(rank, rankOK, size, sizeOK) {
		return fail("started by OpenMPI's mpirun %s, but %s: run it with gompirun, or build with -tags mpi",
			of("rank", rank, rankOK, size, sizeOK), withoutMPI)
	}
	if rankOK || sizeOK {
		return nil // a one-process mpirun job
	}

	// PMIx: srun --mpi=pmix, prterun.
	if rank, rankOK = num("PMIX_RANK"); rankOK {
		if inStep {
			if stepTasks > 1 {
				return fail("started by srun --mpi=pmix as task %d of %d, but %s, and gompi speaks PMI, not PMIx: use srun --mpi=pmi2, or build with -tags mpi",
					rank, stepTasks, withoutMPI)
			}
			return nil
		}
		return fail("started by a PMIx launcher as rank %d (PMIX_RANK), but %s, and gompi speaks PMI, not PMIx: run it with gompirun, or build with -tags mpi and use OpenMPI's mpirun",
			rank, withoutMPI)
	}

	// PMI variables without a way to reach the server (PMI_FD and PMI_PORT are handled before).
	rank, rankOK = num("PMI_RANK")
	size, sizeOK = num("PMI_SIZE")
	if several(rank, rankOK, size, sizeOK) {
		return fail("started by a PMI launcher (srun, MPICH's mpiexec) %s, but neither PMI_FD nor PMI_PORT is set, so gompi cannot reach its PMI server: use srun --mpi=pmi2 or MPICH's mpiexec, or run it with gompirun",
			of("rank", rank, rankOK, size, sizeOK))
	}

	// A Slurm step of several tasks without PMI (srun --mpi=none, Slurm's usual default).
	if inStep && stepTasks > 1 {
		if builtWithMPI {
			return fail("started by srun with %d tasks but without PMI: use srun --mpi=pmi2 or srun --mpi=pmix", stepTasks)
		}
		return fail("started by srun with %d tasks but without PMI: use srun --mpi=pmi2, or build with -tags mpi and srun --mpi=pmix", stepTasks)
	}

	// MPICH's Hydra gives each process the number of processes on its node.
	if n, ok := num("MPI_LOCALNRANKS"); ok && n > 1 {
		return fail("started by MPICH's mpiexec (MPI_LOCALNRANKS=%d), but neither PMI_FD nor PMI_PORT is set: run it with gompirun, or with an mpiexec that serves PMI", n)
	}
	return nil
}
