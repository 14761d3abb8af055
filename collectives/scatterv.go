package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Scatterv sends block i of send on rank root to rank i's recv (MPI_Scatterv, MPI 4.1 §6.6).
// send matters only at the root (elsewhere pass the zero Blocks). Each rank's len(recv) must
// equal the root's send.Counts entry for it, or that rank fails with comm.ErrSizeMismatch.
func Scatterv[T comm.Elem](c *comm.Comm, send Blocks[T], recv []T, root int) error {
	return ScattervContext(context.Background(), c, send, recv, root)
}

// ScattervContext is Scatterv bounded by ctx (see "Contexts" in the package documentation).
func ScattervContext[T comm.Elem](ctx context.Context, c *comm.Comm, send Blocks[T], recv []T, root int) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, vecFP[T]("Scatterv", root, vecScatterv, len(recv), send.Counts, nil)); err != nil {
			return err
		}
	}
	return scatterv(ctx, c, "Scatterv", asBytes(send.Buf), send.Counts, send.Displs, asBytes(recv), sizeOf[T](), root, algAuto)
}

func scatterv(ctx context.Context, c *comm.Comm, name string, send []byte, counts, displs []int, recv []byte, esize, root int, alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	if err := checkRoot(c, name, root); err != nil {
		return err
	}
	r := newRun(ctx, c, name, kindScatterv)
	defer r.free()
	var bc, bd []int
	if r.rank == root {
		var err error
		bc, bd, err = checkCounts(name, r.rank, r.size, counts, displs, len(send)/esize, esize, "send")
		if err == nil && bc[root] != len(recv) {
			err = argError(name, r.rank, comm.ErrSizeMismatch, "counts[%d] = %d but the root's recv has %d elements", root, counts[root], len(recv)/esize)
		}
		r.fail(err)
	}
	if nat := r.native(alg); nat != nil {
		if err, ok := r.callNative(send, recv, func(send, recv []byte) error { return nat.Scatterv(send, bc, bd, recv, root) }); ok {
			return err
		}
	}
	if err := r.checkPending(); err != nil {
		return err
	}
	r.begin()
	r.alg = algLinear
	scattervLinear(r, send, bc, bd, recv, root)
	return r.end()
}
