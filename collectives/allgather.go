package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// Allgather uses Bruck's algorithm while the result (p·n bytes) is at most allgatherBruckMaxBytes,
// and the ring above. Measured over TCP: Bruck wins on 4 and 8 ranks up to a 32 KiB result (by
// 13% and 55% there), and the two are within 6% at 128 KiB on 8 ranks. On shared memory (every
// rank on one host) Bruck wins far longer: by 37% at a 128 KiB result and 35% at 512 KiB on 4
// ranks, by 19% at 256 KiB on 8 ranks, and they tie at 1 MiB on 8 ranks; so there the limit is
// allgatherBruckMaxBytesShm. See docs/collectives.md.
const (
	allgatherBruckMaxBytes    = 32 << 10
	allgatherBruckMaxBytesShm = 512 << 10
)

// Allgather collects send from every rank into recv on every rank, in rank order: rank i's
// elements land at recv[i*len(send):] (MPI_Allgather, MPI 4.1 §6.7). Every rank passes send of
// the same length and recv of Size()·len(send) elements.
func Allgather[T comm.Elem](c *comm.Comm, send, recv []T) error {
	return AllgatherContext(context.Background(), c, send, recv)
}

// AllgatherContext is Allgather bounded by ctx (see "Contexts" in the package documentation).
func AllgatherContext[T comm.Elem](ctx context.Context, c *comm.Comm, send, recv []T) error {
	if checking() {
		var err error
		if ctx, err = checkOrDefer(ctx, c, callFP[T]("Allgather", -1, len(send))); err != nil {
			return err
		}
	}
	return allgather(ctx, c, "Allgather", asBytes(send), asBytes(recv), sizeOf[T](), algAuto)
}

func allgather(ctx context.Context, c *comm.Comm, name string, send, recv []byte, esize int, alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	if alg == algAuto {
		var err error
		if alg, err = forced(kindAllgather, true); err != nil {
			return err
		}
	}
	r := newRun(ctx, c, name, kindAllgather)
	defer r.free()
	if want := r.size * len(send); len(recv) != want {
		r.failf(comm.ErrSizeMismatch, "recv has %d elements, want %d (%d ranks × %d)", len(recv)/esize, want/esize, r.size, len(send)/esize)
		recv = make([]byte, want)
	}
	if nat := r.native(alg); nat != nil {
		if err, ok := r.callNative(send, recv, nat.Allgather); ok {
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
		alg = chooseAllgather(r.size, len(recv), oneHost(r.shadow()))
	}
	r.alg = alg
	switch alg {
	case algBruck:
		allgatherBruck(r, send, recv)
	case algRing:
		counts, displs := uniform(r.size, len(send))
		allgatherRing(r, send, recv, counts, displs)
	case algNodeAware:
		if h := r.hosts(); h != nil {
			hierAllgather(r, h, send, recv, len(send))
		} else {
			allgatherBruck(r, send, recv)
		}
	default:
		return errorf(name, comm.ErrInvalidArgument, "no %v algorithm for Allgather", alg)
	}
	return r.end()
}

// chooseAllgather picks the algorithm for p ranks and a result of recvBytes bytes (every
// rank's block), over shared memory when shm (every rank on one host). On two ranks over
// shared memory both are one exchange and Bruck's extra rotation makes it slower at every size
// measured (16 KiB to 512 KiB results: 2–38%), so the ring runs there.
func chooseAllgather(p, recvBytes int, shm bool) algorithm {
	limit := allgatherBruckMaxBytes
	if shm {
		limit = allgatherBruckMaxBytesShm
		if p == 2 {
			limit = -1
		}
	}
	if recvBytes <= limit {
		return algBruck
	}
	return algRing
}
