package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Alltoallv is Alltoall with a block length and place per rank (MPI_Alltoallv, MPI 4.1 §6.8):
// block j of rank i's send lands in block i of rank j's recv, so rank i's send.Counts[j] must
// equal rank j's recv.Counts[i]; a mismatch fails the receiving rank with comm.ErrSizeMismatch.
func Alltoallv[T comm.Elem](c *comm.Comm, send, recv Blocks[T]) error {
	return AlltoallvContext(context.Background(), c, send, recv)
}

// AlltoallvContext is Alltoallv bounded by ctx (see "Contexts" in the package documentation).
func AlltoallvContext[T comm.Elem](ctx context.Context, c *comm.Comm, send, recv Blocks[T]) error {
	const name = "Alltoallv"
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, vecFP[T](name, -1, vecAlltoallv, 0, send.Counts, recv.Counts)); err != nil {
			return err
		}
	}
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	r := newRun(ctx, c, name, kindAlltoallv)
	defer r.free()
	sb, sc, sd, err := send.bytes(name, r.rank, r.size, "send")
	r.fail(err)
	rb, rc, rd, err := recv.bytes(name, r.rank, r.size, "recv")
	r.fail(err)
	if nat := r.native(algAuto); nat != nil {
		if err, ok := r.callNative(sb, rb, func(sb, rb []byte) error { return nat.Alltoallv(sb, sc, sd, rb, rc, rd) }); ok {
			return err
		}
	}
	if err := r.checkPending(); err != nil {
		return err
	}
	r.begin()
	r.alg = algPairwise
	alltoallPairwise(r, sb, sc, sd, rb, rc, rd)
	return r.end()
}
