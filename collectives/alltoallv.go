package collectives

import "github.com/gompi/gompi/comm"

// Alltoallv is Alltoall with a block length and place per rank (MPI_Alltoallv, MPI 4.1 §6.8):
// rank i's send[sendDispls[j]:][:sendCounts[j]] lands in rank j's
// recv[recvDispls[i]:][:recvCounts[i]], so rank i's sendCounts[j] must equal rank j's
// recvCounts[i]; a mismatch fails the receiving rank with comm.ErrSizeMismatch. Nil
// displacements pack the blocks in rank order.
func Alltoallv[T comm.Elem](c *comm.Comm, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int) error {
	const name = "Alltoallv"
	if err := checkComm(c, name); err != nil {
		return err
	}
	r := newRun(c, name, kindAlltoallv)
	esize := sizeOf[T]()
	sc, sd, err := checkCounts(name, r.rank, r.size, sendCounts, sendDispls, len(send), esize, "send")
	r.fail(err)
	rc, rd, err := checkCounts(name, r.rank, r.size, recvCounts, recvDispls, len(recv), esize, "recv")
	r.fail(err)
	if nat := r.native(c, algAuto); nat != nil {
		if err := nat.Alltoallv(asBytes(send), sc, sd, asBytes(recv), rc, rd); !nativeUnsupported(err) {
			return err
		}
	}
	alltoallPairwise(r, asBytes(send), sc, sd, asBytes(recv), rc, rd)
	return r.err
}
