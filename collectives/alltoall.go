package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Alltoall sends each rank its own block: rank i's send[j*b:(j+1)*b] lands in rank j's
// recv[i*b:(i+1)*b], where b = len(send)/Size() (MPI_Alltoall, MPI 4.1 §6.8). send and recv have the same length, a multiple of Size(), on every
// rank.
func Alltoall[T comm.Elem](c *comm.Comm, send, recv []T) error {
	return AlltoallContext(context.Background(), c, send, recv)
}

// AlltoallContext is Alltoall bounded by ctx (see "Contexts" in the package documentation).
func AlltoallContext[T comm.Elem](ctx context.Context, c *comm.Comm, send, recv []T) error {
	return alltoall(ctx, c, "Alltoall", asBytes(send), asBytes(recv), sizeOf[T]())
}

func alltoall(ctx context.Context, c *comm.Comm, name string, send, recv []byte, esize int) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	r := newRun(ctx, c, name, kindAlltoall)
	defer r.free()
	if len(send) != len(recv) || len(send)%(r.size*esize) != 0 {
		r.failf(comm.ErrSizeMismatch, "send has %d elements and recv %d; they must be equal and a multiple of the %d ranks", len(send)/esize, len(recv)/esize, r.size)
		recv = make([]byte, len(send))
	}
	if nat := r.native(algAuto); nat != nil {
		if err, ok := r.callNative(send, recv, nat.Alltoall); ok {
			return err
		}
	}
	r.begin()
	counts, displs := uniform(r.size, len(send)/r.size)
	alltoallPairwise(r, send, counts, displs, recv, counts, displs)
	return r.end()
}
