package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Gatherv collects send from every rank into recv on rank root: rank i's elements land in block
// i of recv (MPI_Gatherv, MPI 4.1 §6.5). recv matters only at the root (elsewhere pass the zero
// Blocks), where recv.Counts[i] must equal rank i's len(send). A rank whose len(send) differs
// from the root's count makes the root (and that rank, when the root can tell it) fail with
// comm.ErrSizeMismatch.
func Gatherv[T comm.Elem](c *comm.Comm, send []T, recv Blocks[T], root int) error {
	return GathervContext(context.Background(), c, send, recv, root)
}

// GathervContext is Gatherv bounded by ctx (see "Contexts" in the package documentation).
func GathervContext[T comm.Elem](ctx context.Context, c *comm.Comm, send []T, recv Blocks[T], root int) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, vecFP[T]("Gatherv", root, vecGatherv, len(send), recv.Counts, nil)); err != nil {
			return err
		}
	}
	return gatherv(ctx, c, "Gatherv", asBytes(send), asBytes(recv.Buf), recv.Counts, recv.Displs, sizeOf[T](), root, algAuto)
}

func gatherv(ctx context.Context, c *comm.Comm, name string, send, recv []byte, counts, displs []int, esize, root int, alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	if err := checkRoot(c, name, root); err != nil {
		return err
	}
	r := newRun(ctx, c, name, kindGatherv)
	defer r.free()
	var bc, bd []int
	if r.rank == root {
		var err error
		bc, bd, err = checkCounts(name, r.rank, r.size, counts, displs, len(recv)/esize, esize, "recv")
		if err == nil && bc[root] != len(send) {
			err = argError(name, r.rank, comm.ErrSizeMismatch, "counts[%d] = %d but the root's send has %d elements", root, counts[root], len(send)/esize)
		}
		r.fail(err)
	}
	if nat := r.native(alg); nat != nil {
		if err, ok := r.callNative(send, recv, func(send, recv []byte) error { return nat.Gatherv(send, recv, bc, bd, root) }); ok {
			return err
		}
	}
	if err := r.checkPending(); err != nil {
		return err
	}
	r.begin()
	r.alg = algLinear
	gathervLinear(r, send, recv, bc, bd, root)
	return r.end()
}
