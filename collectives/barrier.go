package collectives

import "github.com/gompi/gompi/comm"

// Barrier blocks until every rank of c has called it (MPI_Barrier, MPI 4.1 §6.3). It uses the
// native barrier when the backend has one, otherwise the dissemination algorithm.
func Barrier(c *comm.Comm) error {
	if err := checkComm(c, "Barrier"); err != nil {
		return err
	}
	r := newRun(c, "Barrier", kindBarrier)
	if nat := r.native(c, algAuto); nat != nil {
		if err := nat.Barrier(); !nativeUnsupported(err) {
			return err
		}
	}
	barrierDissemination(r)
	return r.err
}
