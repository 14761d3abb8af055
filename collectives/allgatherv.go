package collectives

import "github.com/gompi/gompi/comm"

// Allgatherv collects send from every rank into recv on every rank: rank i's elements land in
// block i of recv (MPI_Allgatherv, MPI 4.1 §6.7). Every rank passes the same recv.Counts, and
// recv.Counts[i] must equal rank i's len(send); displacements may differ between ranks.
func Allgatherv[T comm.Elem](c *comm.Comm, send []T, recv Blocks[T]) error {
	return allgatherv(c, "Allgatherv", asBytes(send), asBytes(recv.Buf), recv.Counts, recv.Displs, sizeOf[T]())
}

func allgatherv(c *comm.Comm, name string, send, recv []byte, counts, displs []int, esize int) error {
	if err := checkComm(c, name); err != nil {
		return err
	}
	r := newRun(c, name, kindAllgatherv)
	bc, bd, err := checkCounts(name, r.rank, r.size, counts, displs, len(recv)/esize, esize, "recv")
	if err == nil && bc[r.rank] != len(send) {
		err = argError(name, r.rank, comm.ErrSizeMismatch, "counts[%d] = %d but send has %d elements", r.rank, counts[r.rank], len(send)/esize)
	}
	r.fail(err)
	if nat := r.native(c, algAuto); nat != nil {
		if err := nat.Allgatherv(send, recv, bc, bd); !nativeUnsupported(err) {
			return err
		}
	}
	allgatherRing(r, send, recv, bc, bd)
	return r.err
}
