package collectives

import (
	"context"
	"encoding/binary"

	"github.com/gompi/gompi/comm"
)

// Reductions of Go values: AllreduceValue, ReduceValue and ScanValue combine one value per rank
// with a function of the caller's, like mpi4py's comm.allreduce(obj, op=f). The values travel
// gob-encoded (see the value collectives), so T is any type encoding/gob handles: a struct, a
// matrix held in a slice, a map.
//
// Order. The result is the combination of the ranks' values in rank order,
//
//	f(...f(f(v₀, v₁), v₂)..., vₚ₋₁)
//
// bracketed as the algorithm's tree makes it, so f must be associative but need not be
// commutative: a product of matrices comes out as v₀·v₁·…·vₚ₋₁. f must not keep or modify
// its arguments' memory beyond the call in ways the caller's values would notice: on a rank,
// f's first argument may be that rank's own v.
//
// Algorithms. ReduceValue folds along a binomial tree over the ranks in their order (rank 0
// ends up with the whole fold and, for another root, sends it there); AllreduceValue folds the
// same way and broadcasts the result from rank 0 along a binomial tree; ScanValue uses
// recursive doubling, in which each rank keeps the fold of its own prefix. A rank calls f at
// most about log₂ p times (ScanValue: twice per step), encodes its partial result once per
// message and decodes each value it receives.
//
// Failures. A rank that cannot encode or decode a value fails with an error wrapping
// comm.ErrInvalidArgument, and the ranks that depend on it fail too, as in the other
// collectives; contexts work as in the other collectives. These are always gompi's
// algorithms, also on OpenMPI (over its point-to-point): C ranks could not take part.

// AllreduceValue returns, on every rank, the ranks' values v combined with f in rank order:
// f(f(v₀, v₁), v₂)... (see "Reductions of Go values" above: f must be associative, need not
// be commutative). On one rank it returns v without calling f.
func AllreduceValue[T any](c *comm.Comm, v T, f func(a, b T) T) (T, error) {
	return AllreduceValueContext(context.Background(), c, v, f)
}

// AllreduceValueContext is AllreduceValue bounded by ctx (see "Contexts" in the package
// documentation).
func AllreduceValueContext[T any](ctx context.Context, c *comm.Comm, v T, f func(a, b T) T) (T, error) {
	const name = "AllreduceValue"
	var zero T
	if checking() {
		if err := checkArgs(ctx, c, valueReduceFP(name, -1, f)); err != nil {
			return zero, err
		}
	}
	if err := checkCall(ctx, c, name); err != nil {
		return zero, err
	}
	if f == nil {
		return zero, argError(name, c.Rank(), comm.ErrInvalidArgument, "nil function")
	}
	r := newRun(ctx, c, name, kindAllreduce)
	defer r.free()
	r.begin()
	r.alg = algBinomial
	acc := foldToZero(r, v, f)
	// Broadcast the fold from rank 0 along a binomial tree over the ranks.
	var data []byte
	if r.rank == 0 && r.err == nil && r.size > 1 {
		data = r.encodeValue(acc)
	}
	mask := 1
	for mask < r.size {
		if r.rank&mask != 0 {
			data = r.recvValue(r.rank - mask)
			break
		}
		mask <<= 1
	}
	for mask >>= 1; mask > 0; mask >>= 1 {
		if r.rank+mask < r.size {
			r.sendValue(data, r.rank+mask)
		}
	}
	if err := r.end(); err != nil {
		return zero, err
	}
	if r.rank == 0 {
		return acc, nil
	}
	return decodeValue[T](r, data, 0)
}

// ReduceValue returns, on rank root, the ranks' values v combined with f in rank order (see
// AllreduceValue), and the zero T with a nil error elsewhere.
func ReduceValue[T any](c *comm.Comm, v T, f func(a, b T) T, root int) (T, error) {
	return ReduceValueContext(context.Background(), c, v, f, root)
}

// ReduceValueContext is ReduceValue bounded by ctx (see "Contexts" in the package
// documentation).
func ReduceValueContext[T any](ctx context.Context, c *comm.Comm, v T, f func(a, b T) T, root int) (T, error) {
	const name = "ReduceValue"
	var zero T
	if checking() {
		if err := checkArgs(ctx, c, valueReduceFP(name, root, f)); err != nil {
			return zero, err
		}
	}
	if err := checkCall(ctx, c, name); err != nil {
		return zero, err
	}
	if err := checkRoot(c, name, root); err != nil {
		return zero, err
	}
	if f == nil {
		return zero, argError(name, c.Rank(), comm.ErrInvalidArgument, "nil function")
	}
	r := newRun(ctx, c, name, kindReduce)
	defer r.free()
	r.begin()
	r.alg = algBinomial
	acc := foldToZero(r, v, f)
	var data []byte
	if root != 0 {
		switch r.rank {
		case 0:
			if r.err == nil {
				data = r.encodeValue(acc)
			}
			r.sendValue(data, root)
		case root:
			data = r.recvValue(0)
		}
	}
	if err := r.end(); err != nil {
		return zero, err
	}
	switch {
	case r.rank != root:
		return zero, nil
	case root == 0:
		return acc, nil
	}
	return decodeValue[T](r, data, 0)
}

// ScanValue returns, on rank i, the values v of ranks 0 to i combined with f in rank order
// (an inclusive scan, MPI_Scan's order; see AllreduceValue for what f must be). Rank 0 gets its
// own v.
func ScanValue[T any](c *comm.Comm, v T, f func(a, b T) T) (T, error) {
	return ScanValueContext(context.Background(), c, v, f)
}

// ScanValueContext is ScanValue bounded by ctx (see "Contexts" in the package documentation).
func ScanValueContext[T any](ctx context.Context, c *comm.Comm, v T, f func(a, b T) T) (T, error) {
	const name = "ScanValue"
	var zero T
	if checking() {
		if err := checkArgs(ctx, c, valueReduceFP(name, -1, f)); err != nil {
			return zero, err
		}
	}
	if err := checkCall(ctx, c, name); err != nil {
		return zero, err
	}
	if f == nil {
		return zero, argError(name, c.Rank(), comm.ErrInvalidArgument, "nil function")
	}
	r := newRun(ctx, c, name, kindScan)
	defer r.free()
	r.begin()
	r.alg = algRecursiveDoubling
	// Recursive doubling: after the step with mask m, partial is the fold of the ranks of this
	// rank's aligned block of 2m ranks, and result the fold of the ranks 0..me. A partner's
	// partial comes from below (it goes first) or from above (it goes last).
	result, partial := v, v
	for mask := 1; mask < r.size; mask <<= 1 {
		partner := r.rank ^ mask
		if partner >= r.size {
			continue
		}
		var data []byte
		if r.err == nil {
			data = r.encodeValue(partial)
		}
		got := r.exchangeValue(data, partner)
		if r.err != nil {
			continue
		}
		in, err := decodeValue[T](r, got, partner)
		if err != nil {
			r.fail(err)
			continue
		}
		if partner < r.rank {
			result = f(in, result)
			partial = f(in, partial)
		} else {
			partial = f(partial, in)
		}
	}
	if err := r.end(); err != nil {
		return zero, err
	}
	return result, nil
}

// foldToZero folds the ranks' values to rank 0 in rank order along a binomial tree: in the step
// with mask m, a rank whose bit m is clear holds the fold of ranks [me, me+m) and takes that of
// [me+m, me+2m) from rank me+m, whose bit m is set and which then leaves the tree. Rank 0 returns
// the whole fold; the others return what they had when they sent it. After a failure it only
// walks the schedule.
func foldToZero[T any](r *run, v T, f func(a, b T) T) T {
	acc := v
	for mask := 1; mask < r.size; mask <<= 1 {
		if r.rank&mask != 0 {
			var data []byte
			if r.err == nil {
				data = r.encodeValue(acc)
			}
			r.sendValue(data, r.rank-mask)
			break
		}
		src := r.rank + mask
		if src >= r.size {
			continue
		}
		data := r.recvValue(src)
		if r.err != nil {
			continue
		}
		in, err := decodeValue[T](r, data, src)
		if err != nil {
			r.fail(err)
			continue
		}
		acc = f(acc, in)
	}
	return acc
}

// encodeValue gob-encodes v, or fails the run (and returns nil) when it cannot.
func (r *run) encodeValue(v any) []byte {
	data, err := encode(r.name, r.rank, v)
	if err != nil {
		r.fail(err)
		return nil
	}
	return data
}

// decodeValue decodes a value that rank from encoded.
func decodeValue[T any](r *run, data []byte, from int) (T, error) {
	return decode[T](r.name, r.rank, data, from)
}

// A value between two ranks is two messages: its length (8 bytes, little-endian) and its bytes.
// After a failure each becomes an abort (send) or is dropped (receive), so the two sides keep
// step whatever happened on either.

// maxValueBytes bounds the length a peer may announce (as the engine bounds a message's).
const maxValueBytes = 1 << 40

// sendValue sends an encoded value to dest.
func (r *run) sendValue(data []byte, dest int) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(data)))
	r.send(n[:], dest)
	r.send(data, dest)
}

// recvValue receives an encoded value from src; nil after a failure.
func (r *run) recvValue(src int) []byte {
	var n [8]byte
	r.recv(n[:], src)
	if r.err != nil {
		r.recv(nil, src)
		return nil
	}
	size := binary.LittleEndian.Uint64(n[:])
	if size > maxValueBytes {
		r.failf(comm.ErrInvalidArgument, "rank %d announced a value of %d bytes", src, size)
		r.recv(nil, src)
		return nil
	}
	data := make([]byte, size)
	r.recv(data, src)
	if r.err != nil {
		return nil
	}
	return data
}

// exchangeValue sends an encoded value to partner while receiving partner's; nil after a
// failure.
func (r *run) exchangeValue(data []byte, partner int) []byte {
	var out, in [8]byte
	binary.LittleEndian.PutUint64(out[:], uint64(len(data)))
	r.sendrecv(out[:], partner, in[:], partner)
	var got []byte
	if size := binary.LittleEndian.Uint64(in[:]); r.err == nil && size > maxValueBytes {
		r.failf(comm.ErrInvalidArgument, "rank %d announced a value of %d bytes", partner, size)
	} else if r.err == nil {
		got = make([]byte, size)
	}
	r.sendrecv(data, partner, got, partner)
	if r.err != nil {
		return nil
	}
	return got
}
