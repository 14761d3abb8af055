package collectives

import (
	"context"
	"math"

	"github.com/gompi/gompi/comm"
)

// reduceLargeBytes is the vector size from which Reduce with a commutative op uses Rabenseifner's
// algorithm instead of the binomial tree. On the 2-core machine where it was measured (4 ranks,
// up to 2 MiB, inproc and TCP) the binomial tree always won, so the switch is off; MPICH switches
// at 2 KiB on machines with a core per rank. See docs/collectives.md.
const reduceLargeBytes = math.MaxInt

// Reduce combines send from every rank with op and leaves the result in recv on rank root
// (MPI_Reduce, MPI 4.1 §6.9.1): recv = send₀ ⊕ send₁ ⊕ … ⊕ sendₚ₋₁, element by element. Every
// rank passes send of the same length; recv matters only at the root, where its length must
// equal len(send) (elsewhere it may be nil). send and recv may be the same slice. Element types
// and operations are as for Allreduce.
func Reduce[T any](c *comm.Comm, send, recv []T, op Op[T], root int) error {
	return ReduceContext(context.Background(), c, send, recv, op, root)
}

// ReduceContext is Reduce bounded by ctx (see "Contexts" in the package documentation).
func ReduceContext[T any](ctx context.Context, c *comm.Comm, send, recv []T, op Op[T], root int) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, reduceFP("Reduce", root, len(send), op)); err != nil {
			return err
		}
	}
	return reduce(ctx, c, "Reduce", send, recv, op, root, algAuto)
}

func reduce[T any](ctx context.Context, c *comm.Comm, name string, send, recv []T, op Op[T], root int, alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	if err := checkRoot(c, name, root); err != nil {
		return err
	}
	d, err := resolve(name, c.Rank(), op)
	if err != nil {
		return err
	}
	if alg == algAuto {
		if alg, err = forced(kindReduce, d.commutative); err != nil {
			return err
		}
	}
	r := newRun(ctx, c, name, kindReduce)
	defer r.free()
	n := len(send)
	if r.rank == root && len(recv) != n {
		// Take part with a scratch result, so that no other rank waits forever, then report.
		r.failf(comm.ErrSizeMismatch, "recv has %d elements, send %d; they must be equal at the root %d", len(recv), n, root)
		recv = make([]T, n)
	}
	if d.predefined {
		if nat := r.native(alg); nat != nil {
			if t, ok := nativeType[T](); ok {
				if err, ok := r.callNative(asBytes(send), asBytes(recv), func(send, recv []byte) error {
					return nat.Reduce(send, recv, t, d.native, root)
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
	if alg == algAuto && d.commutative && r.hosts() != nil {
		alg = algNodeAware
	}
	if alg == algAuto {
		alg = chooseReduce(r.size, n, n*sizeOf[T](), d.commutative)
	}
	r.alg = alg
	switch alg {
	case algBinomial:
		reduceBinomial(r, send, recv, d, root)
	case algRabenseifner:
		if !d.commutative {
			return errorf(name, comm.ErrInvalidArgument, "the %v algorithm needs a commutative op", alg)
		}
		reduceRabenseifner(r, send, recv, d, root)
	case algNodeAware:
		if h := r.hosts(); h != nil && d.commutative {
			hierReduce(r, h, send, recv, d, root)
		} else {
			reduceBinomial(r, send, recv, d, root)
		}
	default:
		return errorf(name, comm.ErrInvalidArgument, "no %v algorithm for Reduce", alg)
	}
	return r.end()
}

// chooseReduce picks the algorithm for p ranks and a vector of n elements and bytes bytes.
// Rabenseifner's algorithm splits the vector into pof2 blocks, so it needs a commutative op
// and at least one element per block.
func chooseReduce(p, n, bytes int, commutative bool) algorithm {
	if commutative && bytes >= reduceLargeBytes && n >= pof2Below(p) {
		return algRabenseifner
	}
	return algBinomial
}
