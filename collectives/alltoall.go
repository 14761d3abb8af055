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
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, callFP[T]("Alltoall", -1, len(send))); err != nil {
			return err
		}
	}
	return alltoall(ctx, c, "Alltoall", asBytes(send), asBytes(recv), sizeOf[T](), algAuto)
}

func alltoall(ctx context.Context, c *comm.Comm, name string, send, recv []byte, esize int, alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	if alg == algAuto {
		var err error
		if alg, err = forced(kindAlltoall, true); err != nil {
			return err
		}
	}
	r := newRun(ctx, c, name, kindAlltoall)
	defer r.free()
	if len(send) != len(recv) || len(send)%(r.size*esize) != 0 {
		r.failf(comm.ErrSizeMismatch, "send has %d elements and recv %d; they must be equal and a multiple of the %d ranks", len(send)/esize, len(recv)/esize, r.size)
		recv = make([]byte, len(send))
	}
	if nat := r.native(alg); nat != nil {
		if err, ok := r.callNative(send, recv, nat.Alltoall); ok {
			return err
		}
	}
	if err := r.checkPending(); err != nil {
		return err
	}
	r.begin()
	b := len(send) / r.size
	if alg == algAuto {
		alg = chooseAlltoall(r.size, b)
	}
	r.alg = alg
	switch alg {
	case algBruck:
		alltoallBruck(r, send, recv, b)
	case algPairwise:
		counts, displs := uniform(r.size, b)
		alltoallPairwise(r, send, counts, displs, recv, counts, displs)
	default:
		return errorf(name, comm.ErrInvalidArgument, "no %v algorithm for Alltoall", alg)
	}
	return r.end()
}

// alltoallBruckBytes and alltoallBruckMinRanks bound where Alltoall uses Bruck's algorithm:
// blocks of at most that many bytes, on at least that many ranks (see docs/collectives.md).
const (
	alltoallBruckBytes    = 0
	alltoallBruckMinRanks = 4
)

// chooseAlltoall picks the algorithm for p ranks and blocks of b bytes.
func chooseAlltoall(p, b int) algorithm {
	if p >= alltoallBruckMinRanks && b <= alltoallBruckBytes && b > 0 {
		return algBruck
	}
	return algPairwise
}
