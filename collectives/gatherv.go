package collectives

import "github.com/gompi/gompi/comm"

// Gatherv collects send from every rank into recv on rank root: rank i's elements land in block
// i of recv (MPI_Gatherv, MPI 4.1 §6.5). recv matters only at the root (elsewhere pass the zero
// Blocks), where recv.Counts[i] must equal rank i's len(send). A rank whose len(send) differs
// from the root's count makes the root (and that rank, when the root can tell it) fail with
// comm.ErrSizeMismatch.
func Gatherv[T comm.Elem](c *comm.Comm, send []T, recv Blocks[T], root int) error {
	return gatherv(c, "Gatherv", asBytes(send), asBytes(recv.Buf), recv.Counts, recv.Displs, sizeOf[T](), root)
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
