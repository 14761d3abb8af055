package comm

import (
	"errors"
	"testing"
)

func TestOtherLauncher(t *testing.T) {
	srunNoPMI := "comm: started by srun with 4 tasks but without PMI: use srun --mpi=pmi2, or build with -tags mpi and srun --mpi=pmix"
	mpirun := "comm: started by OpenMPI's mpirun as rank 2 of 4, but this program was built without -tags mpi: run it with gompirun, or build with -tags mpi"
	if builtWithMPI {
		srunNoPMI = "comm: started by srun with 4 tasks but without PMI: use srun --mpi=pmi2 or srun --mpi=pmix"
		mpirun = "comm: started by OpenMPI's mpirun as rank 2 of 4, but this program's OpenMPI did not start with it: run it with gompirun, or build with -tags mpi"
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" for no error
	}{
		{"plain ./prog", nil, ""},
		{"batch script shell", map[string]string{"SLURM_NTASKS": "4", "SLURM_JOB_ID": "7"}, ""},
		{"srun -n 1", map[string]string{"SLURM_STEP_NUM_TASKS": "1", "SLURM_NTASKS": "1"}, ""},
		{"srun -n 4 --mpi=none", map[string]string{"SLURM_STEP_NUM_TASKS": "4", "SLURM_NTASKS": "4", "SLURM_PROCID": "2"}, srunNoPMI},
		{"mpirun -n 4", map[string]string{"OMPI_COMM_WORLD_RANK": "2", "OMPI_COMM_WORLD_SIZE": "4", "PMIX_RANK": "2"}, mpirun},
		{"mpirun -n 1", map[string]string{"OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "1", "PMIX_RANK": "0"}, ""},
		{"srun --mpi=pmix", map[string]string{"PMIX_RANK": "3", "SLURM_STEP_NUM_TASKS": "4"},
			"comm: started by srun --mpi=pmix as task 3 of 4, but " + map[bool]string{false: "this program was built without -tags mpi", true: "this program's OpenMPI did not start with it"}[builtWithMPI] +
				", and gompi speaks PMI, not PMIx: use srun --mpi=pmi2, or build with -tags mpi"},
		{"srun -n 1 --mpi=pmix", map[string]string{"PMIX_RANK": "0", "SLURM_STEP_NUM_TASKS": "1"}, ""},
		{"PMIx elsewhere", map[string]string{"PMIX_RANK": "0"}, "comm: started by a PMIx launcher as rank 0 (PMIX_RANK)"},
		{"PMI without a server", map[string]string{"PMI_RANK": "1", "PMI_SIZE": "3"},
			"comm: started by a PMI launcher (srun, MPICH's mpiexec) as rank 1 of 3, but neither PMI_FD nor PMI_PORT is set, so gompi cannot reach its PMI server: use srun --mpi=pmi2 or MPICH's mpiexec, or run it with gompirun"},
		{"PMI size only", map[string]string{"PMI_SIZE": "2"}, "comm: started by a PMI launcher (srun, MPICH's mpiexec) as one of 2 processes, but neither PMI_FD"},
		{"PMI one process", map[string]string{"PMI_RANK": "0", "PMI_SIZE": "1"}, ""},
		{"Hydra local ranks", map[string]string{"MPI_LOCALNRANKS": "4"}, "comm: started by MPICH's mpiexec (MPI_LOCALNRANKS=4)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := otherLauncher(func(k string) string { return tc.env[k] })
			if tc.want == "" {
				if err != nil {
					t.Fatalf("error %q, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if got := err.Error(); len(got) < len(tc.want) || got[:len(tc.want)] != tc.want {
				t.Fatalf("error\n %q\nwant it to start with\n %q", got, tc.want)
			}
			if !errors.Is(err, ErrLauncher) {
				t.Fatalf("error %q is not ErrLauncher", err)
			}
			for _, c := range err.Error() {
				if c == '\n' {
					t.Fatalf("error %q spans lines", err)
				}
			}
		})
	}
}
