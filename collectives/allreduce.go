package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
)

// allreduceLargeBytes is the vector size from which Allreduce with a commutative op leaves
// recursive doubling for the ring (measured on 3 and 4 ranks, inproc and TCP: the ring wins from
// 8 KiB on inproc and from 32 KiB on TCP; see docs/collectives.md). On shared memory (every
// rank on one host) the ring wins from 64 KiB (allreduceLargeBytesShm: 2 ranks tie at 32 KiB,
// 4 ranks lose 15% there). Rabenseifner's algorithm lost to the ring at every measured size on
// this 2-core machine, so it is never chosen automatically.
const (
	allreduceLargeBytes    = 16 << 10
	allreduceLargeBytesShm = 64 << 10
)

// Allreduce combines send from every rank with op and leaves the result in recv on every rank
// (MPI_Allreduce, MPI 4.1 §6.9.6): recv = send₀ ⊕ send₁ ⊕ … ⊕ sendₚ₋₁, element by element.
// send and recv must have the same length on every rank, and may be the same slice (in place).
// Every rank gets the same result, bit for bit.
//
// The predefined operations constrain T to numbers (Sum, Prod), ordered numbers (Min, Max) or
// integers (the logical and bitwise ones), or to Pair (MinLoc, MaxLoc). A user operation (NewOp)
// may reduce any fixed-size element type without pointers: arrays and structs of numbers, such
// as a [4]float64 holding a 2×2 matrix, reduced whole. Buffers move as raw memory, so an element
// type holding pointers (strings, slices, maps, interfaces, ...) is an error wrapping
// comm.ErrInvalidArgument that names it; reduce such values with AllreduceValue.
func Allreduce[T any](c *comm.Comm, send, recv []T, op Op[T]) error {
	return AllreduceContext(context.Background(), c, send, recv, op)
}

// AllreduceContext is Allreduce bounded by ctx (see "Contexts" in the package documentation).
func AllreduceContext[T any](ctx context.Context, c *comm.Comm, send, recv []T, op Op[T]) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, reduceFP("Allreduce", -1, len(send), op)); err != nil {
			return err
		}
	}
	return allreduce(ctx, c, "Allreduce", send, recv, op, algAuto)
}

func allreduce[T any](ctx context.Context, c *comm.Comm, name string, send, recv []T, op Op[T], alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	d, err := resolve(name, c.Rank(), op)
	if err != nil {
		return err
	}
	if alg == algAuto {
		if alg, err = forced(kindAllreduce, d.commutative); err != nil {
			return err
		}
	}
	n := len(send)
	r := newRun(ctx, c, name, kindAllreduce)
	defer r.free()
	if len(recv) != n {
		// Take part with a scratch result, so that no other rank waits forever, then report.
		r.failf(comm.ErrSizeMismatch, "send has %d elements, recv %d; they must be equal", n, len(recv))
		recv = make([]T, n)
	}
	if d.predefined {
		if nat := r.native(alg); nat != nil {
			if t, ok := nativeType[T](); ok {
				if err, ok := r.callNative(asBytes(send), asBytes(recv), func(send, recv []byte) error {
					return nat.Allreduce(send, recv, t, d.native)
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
		alg = chooseAllreduce(r.size, n, n*sizeOf[T](), d.commutative, oneHost(r.shadow()))
	}
	if !d.commutative && (alg == algRing || alg == algRabenseifner) {
		return errorf(name, comm.ErrInvalidArgument, "the %v algorithm needs a commutative op", alg)
	}
	r.alg = alg
	switch alg {
	case algRecursiveDoubling:
		allreduceRecursiveDoubling(r, send, recv, d)
	case algRing:
		allreduceRing(r, send, recv, d)
	case algRabenseifner:
		allreduceRabenseifner(r, send, recv, d)
	case algNodeAware:
		if h := r.hosts(); h != nil && d.commutative {
			hierAllreduce(r, h, send, recv, d)
		} else {
			allreduceRecursiveDoubling(r, send, recv, d)
		}
	default:
		return errorf(name, comm.ErrInvalidArgument, "no %v algorithm for Allreduce", alg)
	}
	return r.end()
}

// chooseAllreduce picks the algorithm for p ranks and a vector of n elements and bytes bytes,
// over shared memory when shm (every rank on one host). The large-message algorithms split the
// vector into p (or a power of two) blocks, so they need a commutative op and at least one
// element per block.
func chooseAllreduce(p, n, bytes int, commutative, shm bool) algorithm {
	large := allreduceLargeBytes
	if shm {
		large = allreduceLargeBytesShm
	}
	if !commutative || bytes < large || n < p {
		return algRecursiveDoubling
	}
	return algRing
}

// oneHost reports whether every rank of the communicator whose shadow is b is known to run on
// one host, reached through shared memory (the transport says so: backend.HostMap).
func oneHost(b backend.Backend) bool {
	hm, ok := b.(backend.HostMap)
	if !ok {
		return false
	}
	h := hm.Hosts()
	return h != nil && len(h.Leaders) == 1 && len(h.Of) > 1
}
