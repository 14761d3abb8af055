//go:build !mpi

package comm

// builtWithMPI says whether this binary has the OpenMPI backend (-tags mpi).
const builtWithMPI = false
