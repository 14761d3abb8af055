package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Barrier blocks until every rank of c has called it (MPI_Barrier, MPI 4.1 §6.3). It uses the
// native barrier when the backend has one, otherwise the dissemination algorithm.
func Barrier(c *comm.Comm) error { return BarrierContext(context.Background(), c) }

// BarrierContext is Barrier bounded by ctx: if ctx ends before every rank has arrived, it
// returns an error wrapping ctx.Err(), and the ranks waiting for this one fail too (see
// "Contexts" in the package documentation).
func BarrierContext(ctx context.Context, c *comm.Comm) error {
	const name = "Barrier"
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, fingerprint{call: name, root: -1, count: -1}); err != nil {
			return err
		}
	}
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	r := newRun(ctx, c, name, kindBarrier)
	defer r.free()
	if nat := r.native(algAuto); nat != nil {
		if err, ok := r.callNative(nil, nil, func(_, _ []byte) error { return nat.Barrier() }); ok {
			return err
		}
	}
	if err := r.checkPending(); err != nil {
		return err
	}
	r.begin()
	if h := r.hosts(); h != nil {
		r.alg = algNodeAware
		hierBarrier(r, h)
	} else {
		r.alg = algDissemination
		barrierDissemination(r)
	}
	return r.end()
}
