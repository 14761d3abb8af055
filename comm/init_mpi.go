//go:build mpi

package comm

import (
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/mpi"
)

// In a binary built with -tags mpi, a process started by OpenMPI's mpirun (which sets
// OMPI_COMM_WORLD_RANK or PMIX_RANK) gets the OpenMPI backend. Init looks at gompirun's
// variables first, so a rank started by gompirun uses TCP even in such a binary.
func init() {
	starters = append(starters, startMPI)
}

// builtWithMPI says whether this binary has the OpenMPI backend (-tags mpi).
const builtWithMPI = true

func startMPI() (backend.World, bool, error) {
	if !mpi.Launched() {
		return nil, false, nil
	}
	w, err := mpi.Init()
	if err != nil {
		return nil, true, err
	}
	return w, true, nil
}
