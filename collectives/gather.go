package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Gather collects send from every rank into recv on rank root, in rank order: rank i's elements
// land at recv[i*len(send):] (MPI_Gather, MPI 4.1 §6.5). Every rank passes send of the same
// length; at the root len(recv) must be Size()·len(send), elsewhere recv is not used (nil is fine).
func Gather[T comm.Elem](c *comm.Comm, send, recv []T, root int) error {
	return GatherContext(context.Background(), c, send, recv, root)
}

// GatherContext is Gather bounded by ctx (see "Contexts" in the package documentation).
func GatherContext[T comm.Elem](ctx context.Context, c *comm.Comm, send, recv []T, root int) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, callFP[T]("Gather", root, len(send))); err != nil {
			return err
		}
	}
	return gather(ctx, c, "Gather", asBytes(send), asBytes(recv), sizeOf[T](), root, algAuto)
}

func gather(ctx context.Context, c *comm.Comm, name string, send, recv []byte, esize, root int, alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	if err := checkRoot(c, name, root); err != nil {
		return err
	}
	r := newRun(ctx, c, name, kindGather)
	defer r.free()
	if want := r.size * len(send); r.rank == root && len(recv) != want {
		r.failf(comm.ErrSizeMismatch, "recv has %d elements at the root, want %d (%d ranks × %d)", len(recv)/esize, want/esize, r.size, len(send)/esize)
		recv = make([]byte, want)
	}
	if nat := r.native(alg); nat != nil {
		if err, ok := r.callNative(send, recv, func(send, recv []byte) error { return nat.Gather(send, recv, root) }); ok {
			return err
		}
	}
	if err := r.checkPending(); err != nil {
		return err
	}
	r.begin()
	switch alg {
	case algAuto, algBinomial:
		r.alg = algBinomial
		gatherBinomial(r, send, recv, root)
	default:
		return errorf(name, comm.ErrInvalidArgument, "no %v algorithm for Gather", alg)
	}
	return r.end()
}
