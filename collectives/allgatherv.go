package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Allgatherv collects send from every rank into recv on every rank: rank i's elements land in
// block i of recv (MPI_Allgatherv, MPI 4.1 §6.7). Every rank passes the same recv.Counts, and
// recv.Counts[i] must equal rank i's len(send); displacements may differ between ranks.
func Allgatherv[T comm.Elem](c *comm.Comm, send []T, recv Blocks[T]) error {
	return AllgathervContext(context.Background(), c, send, recv)
}

// AllgathervContext is Allgatherv bounded by ctx (see "Contexts" in the package documentation).
func AllgathervContext[T comm.Elem](ctx context.Context, c *comm.Comm, send []T, recv Blocks[T]) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, vecFP[T]("Allgatherv", -1, vecAllgatherv, len(send), recv.Counts, nil)); err != nil {
			return err
		}
	}
	return allgatherv(ctx, c, "Allgatherv", asBytes(send), asBytes(recv.Buf), recv.Counts, recv.Displs, sizeOf[T](), algAuto)
}

func allgatherv(ctx context.Context, c *comm.Comm, name string, send, recv []byte, counts, displs []int, esize int, alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	r := newRun(ctx, c, name, kindAllgatherv)
	defer r.free()
	bc, bd, err := checkCounts(name, r.rank, r.size, counts, displs, len(recv)/esize, esize, "recv")
	if err == nil && bc[r.rank] != len(send) {
		err = argError(name, r.rank, comm.ErrSizeMismatch, "counts[%d] = %d but send has %d elements", r.rank, counts[r.rank], len(send)/esize)
	}
	r.fail(err)
	if nat := r.native(alg); nat != nil {
		if err, ok := r.callNative(send, recv, func(send, recv []byte) error { return nat.Allgatherv(send, recv, bc, bd) }); ok {
			return err
		}
	}
	if err := r.checkPending(); err != nil {
		return err
	}
	r.begin()
	r.alg = algRing
	allgatherRing(r, send, recv, bc, bd)
	return r.end()
}
