//go:build mpi && race

package mpi_test

// raceEnabled says whether the tests run with the race detector.
const raceEnabled = true
