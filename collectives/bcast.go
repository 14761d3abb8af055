package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// bcastLargeBytes is the message size from which Bcast uses scatter+allgather instead of the
// binomial tree, on communicators of at least bcastLargeMinRanks ranks. Measured over TCP: on 8
// ranks scatter+allgather wins at 2 MiB and loses at 512 KiB; on 4 ranks it never wins up to
// 2 MiB. See docs/collectives.md.
const (
	bcastLargeBytes    = 1 << 20
	bcastLargeMinRanks = 8
)

// Bcast copies buf from rank root into buf on every other rank (MPI_Bcast, MPI 4.1 §6.4). Every
// rank passes a buffer of the same length; a rank whose length differs gets an error wrapping
// comm.ErrSizeMismatch (and so do the ranks that depend on it), instead of a truncated copy.
func Bcast[T comm.Elem](c *comm.Comm, buf []T, root int) error {
	return BcastContext(context.Background(), c, buf, root)
}

// BcastContext is Bcast bounded by ctx (see "Contexts" in the package documentation).
func BcastContext[T comm.Elem](ctx context.Context, c *comm.Comm, buf []T, root int) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, callFP[T]("Bcast", root, len(buf))); err != nil {
			return err
		}
	}
	return bcast(ctx, c, "Bcast", asBytes(buf), root, algAuto)
}

func bcast(ctx context.Context, c *comm.Comm, name string, buf []byte, root int, alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	if err := checkRoot(c, name, root); err != nil {
		return err
	}
	if alg == algAuto {
		var err error
		if alg, err = forced(kindBcast, true); err != nil {
			return err
		}
	}
	r := newRun(ctx, c, name, kindBcast)
	defer r.free()
	if nat := r.native(alg); nat != nil {
		if err, ok := r.callNative(nil, buf, func(_, buf []byte) error { return nat.Bcast(buf, root) }); ok {
			return err
		}
	}
	if err := r.checkPending(); err != nil {
		return err
	}
	r.begin()
	if alg == algAuto && r.hosts() != nil {
		alg = algNodeAware
	}
	if alg == algAuto {
		alg = chooseBcast(r.size, len(buf))
	}
	r.alg = alg
	switch alg {
	case algBinomial:
		bcastBinomial(r, buf, root)
	case algScatterAllgather:
		bcastScatterAllgather(r, buf, root)
	case algLinear:
		bcastLinear(r, buf, root)
	case algNodeAware:
		if h := r.hosts(); h != nil {
			hierBcast(r, h, buf, root)
		} else {
			bcastBinomial(r, buf, root)
		}
	default:
		return errorf(name, comm.ErrInvalidArgument, "no %v algorithm for Bcast", alg)
	}
	return r.end()
}

// chooseBcast picks the algorithm for p ranks and a message of bytes bytes.
func chooseBcast(p, bytes int) algorithm {
	if bytes >= bcastLargeBytes && p >= bcastLargeMinRanks {
		return algScatterAllgather
	}
	return algBinomial
}
