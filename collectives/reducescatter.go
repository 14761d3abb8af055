package collectives

import (
	"context"

	"github.com/gompi/gompi/comm"
)

// ReduceScatter combines the blocks of send from every rank with op, element by element, and
// scatters the result: rank i gets the reduction of every rank's block i in recv
// (MPI_Reduce_scatter, MPI 4.1 §6.10.1). Every rank passes the same send.Counts (one per rank),
// and recv of send.Counts[rank] elements; a rank's send.Displs, if not nil, place its blocks in
// send.Buf (they are packed into a copy first). Element types and operations are as for
// Allreduce.
func ReduceScatter[T any](c *comm.Comm, send Blocks[T], recv []T, op Op[T]) error {
	return ReduceScatterContext(context.Background(), c, send, recv, op)
}

// ReduceScatterContext is ReduceScatter bounded by ctx (see "Contexts" in the package
// documentation).
func ReduceScatterContext[T any](ctx context.Context, c *comm.Comm, send Blocks[T], recv []T, op Op[T]) error {
	if checking() {
		f := opFP(vecFP[T]("ReduceScatter", -1, vecReduceScatter, len(recv), send.Counts, nil), op)
		var err error
		if ctx, err = checkOrDefer(ctx, c, f); err != nil {
			return err
		}
	}
	return reduceScatter(ctx, c, "ReduceScatter", send, recv, op, algAuto)
}

func reduceScatter[T any](ctx context.Context, c *comm.Comm, name string, sendBlocks Blocks[T], recv []T, op Op[T], alg algorithm) error {
	if err := checkCall(ctx, c, name); err != nil {
		return err
	}
	d, err := resolve(name, c.Rank(), op)
	if err != nil {
		return err
	}
	if alg == algAuto {
		if alg, err = forced(kindReduceScatter, d.commutative); err != nil {
			return err
		}
	}
	r := newRun(ctx, c, name, kindReduceScatter)
	defer r.free()
	send, counts := sendBlocks.Buf, sendBlocks.Counts
	esize := sizeOf[T]()
	bc, bd, err := checkCounts(name, r.rank, r.size, counts, sendBlocks.Displs, len(send), esize, "send")
	if err == nil {
		total := 0
		for _, n := range counts {
			total += n
		}
		switch {
		case sendBlocks.Displs == nil && total != len(send):
			err = argError(name, r.rank, comm.ErrSizeMismatch, "send has %d elements, the counts add up to %d", len(send), total)
		case counts[r.rank] != len(recv):
			err = argError(name, r.rank, comm.ErrSizeMismatch, "recv has %d elements, counts[%d] = %d", len(recv), r.rank, counts[r.rank])
		case sendBlocks.Displs != nil:
			// The algorithms and MPI reduce a packed vector.
			packed := make([]T, total)
			off := 0
			for i, n := range counts {
				copy(packed[off:off+n], send[sendBlocks.Displs[i]:][:n])
				off += n
			}
			send = packed
			bc, bd, _ = checkCounts(name, r.rank, r.size, counts, nil, total, esize, "send")
		}
	}
	if err != nil {
		// Take part with placeholder counts, so that no other rank waits forever.
		r.fail(err)
		counts = make([]int, r.size)
		bc, bd = uniform(r.size, 0)
	}
	if d.predefined {
		if nat := r.native(alg); nat != nil {
			if t, ok := nativeType[T](); ok {
				counts := append([]int(nil), counts...) // the caller's, which a background call must not keep
				if err, ok := r.callNative(asBytes(send), asBytes(recv), func(send, recv []byte) error {
					return nat.ReduceScatter(send, recv, counts, t, d.native)
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
	if alg == algAuto {
		alg = chooseReduceScatter(d.commutative)
	}
	r.alg = alg
	switch alg {
	case algRing:
		if !d.commutative {
			return errorf(name, comm.ErrInvalidArgument, "the %v algorithm needs a commutative op", alg)
		}
		reduceScatterRing(r, send, recv, counts, d)
	case algReduceScatterv:
		reduceScatterReduceScatterv(r, send, recv, bc, bd, d)
	default:
		return errorf(name, comm.ErrInvalidArgument, "no %v algorithm for ReduceScatter", alg)
	}
	return r.end()
}

// chooseReduceScatter picks the algorithm: the ring reorders blocks, so it needs a commutative op.
func chooseReduceScatter(commutative bool) algorithm {
	if commutative {
		return algRing
	}
	return algReduceScatterv
}
