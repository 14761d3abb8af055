package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Scan computes inclusive prefix reductions: rank i gets recv = send₀ ⊕ … ⊕ sendᵢ (MPI_Scan,
// MPI 4.1 §6.11.1). send and recv have the same length on every rank and may be the same slice.
// Element types and operations are as for Allreduce.
func Scan[T any](c *comm.Comm, send, recv []T, op Op[T]) error {
	return ScanContext(context.Background(), c, send, recv, op)
}

// ScanContext is Scan bounded by ctx (see "Contexts" in the package documentation).
func ScanContext[T any](ctx context.Context, c *comm.Comm, send, recv []T, op Op[T]) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, reduceFP("Scan", -1, len(send), op)); err != nil {
			return err
		}
	}
	return scan(ctx, c, "Scan", kindScan, send, recv, op)
}

// Exscan computes exclusive prefix reductions: rank i > 0 gets recv = send₀ ⊕ … ⊕ sendᵢ₋₁, and
// rank 0's recv is left as it is (MPI_Exscan, MPI 4.1 §6.11.2, where it is undefined). send and
// recv have the same length on every rank and may be the same slice. Element types and
// operations are as for Allreduce.
func Exscan[T any](c *comm.Comm, send, recv []T, op Op[T]) error {
	return ExscanContext(context.Background(), c, send, recv, op)
}

// ExscanContext is Exscan bounded by ctx (see "Contexts" in the package documentation).
func ExscanContext[T any](ctx context.Context, c *comm.Comm, send, recv []T, op Op[T]) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, reduceFP("Exscan", -1, len(send), op)); err != nil {
			return err
		}
	}
	return scan(ctx, c, "Exscan", kindExscan, send, recv, op)
}

func scan[T any](ctx context.Context, c *comm.Comm, name string, k kind, send, recv []T, op Op[T]) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	d, err := resolve(name, c.Rank(), op)
	if err != nil {
		return err
	}
	r := newRun(ctx, c, name, k)
	defer r.free()
	if len(recv) != len(send) {
		r.failf(comm.ErrSizeMismatch, "send has %d elements, recv %d; they must be equal", len(send), len(recv))
		recv = make([]T, len(send))
	}
	if d.predefined {
		if nat := r.native(algAuto); nat != nil {
			if t, ok := nativeType[T](); ok {
				f := nat.Scan
				if k == kindExscan {
					f = nat.Exscan
				}
				if err, ok := r.callNative(asBytes(send), asBytes(recv), func(send, recv []byte) error {
					return f(send, recv, t, d.native)
				}); ok {
					return err
				}
			}
		}
	}
	if err := r.checkPending(); err != nil {
		return err
	}
	r.begin()
	r.alg = algRecursiveDoubling
	scanRecursiveDoubling(r, send, recv, d, k == kindExscan)
	return r.end()
}
