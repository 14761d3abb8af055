package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Scatter sends block i of send on rank root, send[i*len(recv):(i+1)*len(recv)], to rank i's
// recv (MPI_Scatter, MPI 4.1 §6.6). Every rank passes recv of the same length; at the root
// len(send) must be Size()·len(recv), elsewhere send is not used (nil is fine).
func Scatter[T comm.Elem](c *comm.Comm, send, recv []T, root int) error {
	return ScatterContext(context.Background(), c, send, recv, root)
}

// ScatterContext is Scatter bounded by ctx (see "Contexts" in the package documentation).
func ScatterContext[T comm.Elem](ctx context.Context, c *comm.Comm, send, recv []T, root int) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, callFP[T]("Scatter", root, len(recv))); err != nil {
			return err
		}
	}
	return scatter(ctx, c, "Scatter", asBytes(send), asBytes(recv), sizeOf[T](), root, algAuto)
}

func scatter(ctx context.Context, c *comm.Comm, name string, send, recv []byte, esize, root int, alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	if err := checkRoot(c, name, root); err != nil {
		return err
	}
	r := newRun(ctx, c, name, kindScatter)
	defer r.free()
	if want := r.size * len(recv); r.rank == root && len(send) != want {
		r.failf(comm.ErrSizeMismatch, "send has %d elements at the root, want %d (%d ranks × %d)", len(send)/esize, want/esize, r.size, len(recv)/esize)
		send = make([]byte, want)
	}
	if nat := r.native(alg); nat != nil {
		if err, ok := r.callNative(send, recv, func(send, recv []byte) error { return nat.Scatter(send, recv, root) }); ok {
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
		scatterBinomial(r, send, recv, root)
	default:
		return errorf(name, comm.ErrInvalidArgument, "no %v algorithm for Scatter", alg)
	}
	return r.end()
}
