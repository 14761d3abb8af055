package collectives

import "github.com/gompi/gompi/comm"

// Blocks is a buffer cut into one block per rank: block i is
// Buf[Displs[i] : Displs[i]+Counts[i]], counts and displacements in elements. It is the receive
// side of Gatherv and Allgatherv, the send side of Scatterv and ReduceScatter, and both sides of
// Alltoallv, so that a buffer's counts and displacements always travel with it and cannot be
// passed in each other's place. A nil Displs packs the blocks in rank order: block i starts
// at Counts[0]+…+Counts[i-1]. Blocks may leave gaps in Buf, but must not overlap where they
// are written.
//
// Blocks is a plain description: the collectives read its slices during the call and keep
// none of them.
type Blocks[T any] struct {
	Buf    []T
	Counts []int // one per rank of the communicator
	Displs []int // one per rank, or nil for packed blocks
}

// Packed returns the Blocks of buf cut by counts, packed in rank order (Displs nil), so that
// Go infers T: Allgatherv(c, mine, collectives.Packed(all, counts)).
func Packed[T any](buf []T, counts []int) Blocks[T] {
	return Blocks[T]{Buf: buf, Counts: counts}
}

// bytes returns the memory of b's buffer as bytes, and its counts and displacements, checked
// against the communicator size p, in bytes (see checkCounts).
func (b Blocks[T]) bytes(name string, rank, p int, what string) (buf []byte, counts, displs []int, err error) {
	counts, displs, err = checkCounts(name, rank, p, b.Counts, b.Displs, len(b.Buf), sizeOf[T](), what)
	return asBytes(b.Buf), counts, displs, err
}

// checkCounts validates the counts and displacements (in elements) that describe p blocks of a
// buffer of bufLen elements, and returns them in bytes for elements of esize bytes. A nil displs
// means the blocks are packed in rank order. what names the buffer in messages.
func checkCounts(name string, rank, p int, counts, displs []int, bufLen, esize int, what string) (bc, bd []int, err error) {
	if len(counts) != p {
		return nil, nil, argError(name, rank, comm.ErrSizeMismatch, "%s counts has %d entries for %d ranks", what, len(counts), p)
	}
	if displs != nil && len(displs) != p {
		return nil, nil, argError(name, rank, comm.ErrSizeMismatch, "%s displs has %d entries for %d ranks", what, len(displs), p)
	}
	bc, bd = make([]int, p), make([]int, p)
	off := 0
	for i, n := range counts {
		if n < 0 {
			return nil, nil, argError(name, rank, comm.ErrInvalidArgument, "%s counts[%d] = %d is negative", what, i, n)
		}
		d := off
		if displs != nil {
			d = displs[i]
			if d < 0 {
				return nil, nil, argError(name, rank, comm.ErrInvalidArgument, "%s displs[%d] = %d is negative", what, i, d)
			}
		}
		if d > bufLen || n > bufLen-d {
			return nil, nil, argError(name, rank, comm.ErrSizeMismatch, "%s block %d (%d elements at %d) ends past the buffer's %d elements", what, i, n, d, bufLen)
		}
		off = d + n
		bc[i], bd[i] = n*esize, d*esize
	}
	return bc, bd, nil
}

// part returns block i of buf described by byte counts and displacements, or nil once the run
// has failed (the counts may then be meaningless, and nothing is read or written anyway).
func (r *run) part(buf []byte, counts, displs []int, i int) []byte {
	if r.err != nil {
		return nil
	}
	return buf[displs[i] : displs[i]+counts[i]]
}

// uniform returns byte counts and displacements of p packed blocks of nb bytes each.
func uniform(p, nb int) (counts, displs []int) {
	counts, displs = make([]int, p), make([]int, p)
	for i := range counts {
		counts[i], displs[i] = nb, i*nb
	}
	return counts, displs
}
