package collectives

import "github.com/gompi/gompi/comm"

// Gatherv collects send from every rank into recv on rank root, rank i's elements at
// recv[displs[i]:displs[i]+counts[i]] (MPI_Gatherv, MPI 4.1 §6.5). recv, counts and displs matter
// only at the root, where counts[i] must equal rank i's len(send); a nil displs packs the blocks
// in rank order. A rank whose len(send) differs from the root's counts entry makes the root (and
// that rank, when the root can tell it) fail with comm.ErrSizeMismatch.
func Gatherv[T comm.Elem](c *comm.Comm, send, recv []T, counts, displs []int, root int) error {
	return gatherv(c, "Gatherv", asBytes(send), asBytes(recv), counts, displs, sizeOf[T](), root)
}

func gatherv(c *comm.Comm, name string, send, recv []byte, counts, displs []int, esize, root int) error {
	if err := checkComm(c, name); err != nil {
		return err
	}
	if err := checkRoot(c, name, root); err != nil {
		return err
	}
	r := newRun(c, name, kindGatherv)
	var bc, bd []int
	if r.rank == root {
		var err error
		bc, bd, err = checkCounts(name, r.rank, r.size, counts, displs, len(recv)/esize, esize, "recv")
		if err == nil && bc[root] != len(send) {
			err = argError(name, r.rank, comm.ErrSizeMismatch, "counts[%d] = %d but the root's send has %d elements", root, counts[root], len(send)/esize)
		}
		r.fail(err)
	}
	if nat := r.native(c, algAuto); nat != nil {
		if err := nat.Gatherv(send, recv, bc, bd, root); !nativeUnsupported(err) {
			return err
		}
	}
	gathervLinear(r, send, recv, bc, bd, root)
	return r.err
}
