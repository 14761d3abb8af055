//go:build mpi

package mpi

import (
	"math"
	"unsafe"

	"github.com/gompi/gompi/internal/backend"
)

// native runs OpenMPI's collectives on one communicator, with the blocking MPI calls
// (MPI_Allreduce, MPI_Bcast, ...): MPI never matches a nonblocking collective with a blocking one
// (MPI 4.1 §6.12), and C code sharing the job calls the blocking ones. The calling goroutine
// therefore holds its OS thread inside MPI until the collective completes; OpenMPI yields the
// CPU while it waits when the job is oversubscribed.
//
// Data-movement collectives (Bcast, Gather, Scatter, Allgather, Alltoall and their v-forms) move
// MPI_BYTE; a block longer than math.MaxInt32 bytes is described by a derived datatype (Bcast,
// Gather, Scatter, Allgather, Alltoall) or, for the v-forms, whose counts and displacements MPI
// takes as C ints, reported as ErrUnsupported so that the caller falls back to its own algorithm.
// Reductions map backend.Type to MPI's fixed-size types and backend.Op to MPI's predefined ops;
// more than math.MaxInt32 elements are reduced in slices of at most that many (ReduceScatter
// reports ErrUnsupported instead). Combinations MPI does not define (Min on complex numbers,
// logical or bitwise operations on floating-point numbers) are ErrUnsupported too.
type native struct {
	c *communicator
}

// elemSize returns the size in bytes of an element of type t, or 0 for an unknown type.
func elemSize(t backend.Type) int {
	switch t {
	case backend.Byte, backend.Int8, backend.Uint8:
		return 1
	case backend.Int16, backend.Uint16:
		return 2
	case backend.Int32, backend.Uint32, backend.Float32:
		return 4
	case backend.Int64, backend.Int, backend.Uint64, backend.Uint, backend.Uintptr, backend.Float64, backend.Complex64:
		return 8
	case backend.Complex128:
		return 16
	}
	return 0
}

// checkReduction reports whether MPI defines op on t (MPI 4.1 §6.9.2).
func checkReduction(name string, t backend.Type, op backend.Op) error {
	if elemSize(t) == 0 {
		return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrUnsupported, "element type %d has no MPI datatype", t)
	}
	if op < backend.OpSum || op > backend.OpBXor {
		return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrUnsupported, "operation %d has no MPI counterpart", op)
	}
	isFloat := t == backend.Float32 || t == backend.Float64
	isComplex := t == backend.Complex64 || t == backend.Complex128
	switch op {
	case backend.OpMin, backend.OpMax:
		if isComplex {
			return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrUnsupported, "MPI defines no Min or Max on complex numbers")
		}
	case backend.OpLAnd, backend.OpLOr, backend.OpLXor, backend.OpBAnd, backend.OpBOr, backend.OpBXor:
		if isFloat || isComplex {
			return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrUnsupported, "MPI defines logical and bitwise operations on integers only")
		}
	}
	return nil
}

func (n *native) checkRoot(name string, root int) error {
	if root < 0 || root >= n.c.size {
		return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrInvalidRoot, "root %d outside 0..%d", root, n.c.size-1)
	}
	return nil
}

func sizeError(name string, format string, args ...any) error {
	return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrSizeMismatch, format, args...)
}

// overlap reports whether a and b share memory.
func overlap(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	pa, pb := uintptr(ptr(a)), uintptr(ptr(b))
	return pa < pb+uintptr(len(b)) && pb < pa+uintptr(len(a))
}

// separate returns send, or a copy of it if it shares memory with recv (MPI forbids aliased
// buffers).
func separate(send, recv []byte) []byte {
	if overlap(send, recv) {
		return append([]byte(nil), send...)
	}
	return send
}

// run makes one blocking MPI call under n.c.enter.
func (n *native) run(name string, call func() int) error {
	if !n.c.enter() {
		return closedError(name, backend.NoDirection, backend.NoPeer, -1)
	}
	rc := call()
	n.c.leave()
	return codeError(rc, name, backend.NoDirection, backend.NoPeer, -1)
}

// blockType is bytesType for a collective's block.
func blockType(name string, n int) (int, typeHandle, func(), error) {
	count, t, free, err := bytesType(name, n)
	if err != nil || !free {
		return count, t, func() {}, err
	}
	return count, t, func() { cTypeFree(t) }, nil
}

// Barrier blocks until every rank has entered it (MPI_Ibarrier).
func (n *native) Barrier() error {
	return n.run("Barrier", func() int { return cBarrier(n.c.h) })
}

// Bcast copies root's buf to every rank's buf (MPI_Ibcast).
func (n *native) Bcast(buf []byte, root int) error {
	if err := n.checkRoot("Bcast", root); err != nil {
		return err
	}
	count, t, free, err := blockType("Bcast", len(buf))
	if err != nil {
		return err
	}
	defer free()
	return n.run("Bcast", func() int {
		return cBcast(ptr(buf), count, t, root, n.c.h)
	})
}

// reduction is the shared body of Reduce, Allreduce, Scan and Exscan: it checks the buffers and
// reduces at most math.MaxInt32 elements per MPI call. call starts one slice; in tells it to
// pass MPI_IN_PLACE (send and recv are the same memory).
func (n *native) reduction(name string, send, recv []byte, t backend.Type, op backend.Op, useRecv bool,
	call func(s, r unsafe.Pointer, count int, dt typeHandle) int) error {
	if err := checkReduction(name, t, op); err != nil {
		return err
	}
	es := elemSize(t)
	if len(send)%es != 0 {
		return sizeError(name, "%d-byte buffer is not a whole number of %d-byte elements", len(send), es)
	}
	if useRecv && len(recv) != len(send) {
		return sizeError(name, "receive buffer has %d bytes, send buffer %d", len(recv), len(send))
	}
	if !useRecv {
		recv = nil
	}
	inPlaceOK := useRecv && len(send) > 0 && ptr(send) == ptr(recv)
	if !inPlaceOK && useRecv {
		send = separate(send, recv)
	}
	dt := cType(int(t))
	total := len(send) / es
	const maxCount = math.MaxInt32
	for off := 0; off == 0 || off < total; off += maxCount {
		k := min(total-off, maxCount)
		s := send[off*es : (off+k)*es]
		var rb []byte
		if useRecv {
			rb = recv[off*es : (off+k)*es]
		}
		err := n.run(name, func() int {
			sp := ptr(s)
			if inPlaceOK {
				sp = inPlace()
			}
			return call(sp, ptr(rb), k, dt)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Reduce combines every rank's send with op into root's recv (MPI_Ireduce). recv is used at
// root only; send and recv may be the same slice.
func (n *native) Reduce(send, recv []byte, t backend.Type, op backend.Op, root int) error {
	if err := n.checkRoot("Reduce", root); err != nil {
		return err
	}
	mop := cOp(int(op))
	return n.reduction("Reduce", send, recv, t, op, n.c.rank == root, func(s, r unsafe.Pointer, k int, dt typeHandle) int {
		return cReduce(s, r, k, dt, mop, root, n.c.h)
	})
}

// Allreduce combines every rank's send with op into every rank's recv (MPI_Iallreduce).
func (n *native) Allreduce(send, recv []byte, t backend.Type, op backend.Op) error {
	mop := cOp(int(op))
	return n.reduction("Allreduce", send, recv, t, op, true, func(s, r unsafe.Pointer, k int, dt typeHandle) int {
		return cAllreduce(s, r, k, dt, mop, n.c.h)
	})
}

// Scan puts into rank i's recv the reduction of the sends of ranks 0..i (MPI_Iscan).
func (n *native) Scan(send, recv []byte, t backend.Type, op backend.Op) error {
	mop := cOp(int(op))
	return n.reduction("Scan", send, recv, t, op, true, func(s, r unsafe.Pointer, k int, dt typeHandle) int {
		return cScan(s, r, k, dt, mop, n.c.h)
	})
}

// Exscan puts into rank i's recv the reduction of the sends of ranks 0..i-1 (MPI_Iexscan);
// rank 0's recv is left as it was.
func (n *native) Exscan(send, recv []byte, t backend.Type, op backend.Op) error {
	mop := cOp(int(op))
	return n.reduction("Exscan", send, recv, t, op, true, func(s, r unsafe.Pointer, k int, dt typeHandle) int {
		return cExscan(s, r, k, dt, mop, n.c.h)
	})
}

// ReduceScatter reduces send (sum of counts elements) and leaves block i (counts[i] elements)
// in rank i's recv (MPI_Ireduce_scatter).
func (n *native) ReduceScatter(send, recv []byte, counts []int, t backend.Type, op backend.Op) error {
	const name = "ReduceScatter"
	if err := checkReduction(name, t, op); err != nil {
		return err
	}
	if len(counts) != n.c.size {
		return sizeError(name, "%d counts for %d ranks", len(counts), n.c.size)
	}
	es, total := elemSize(t), 0
	for i, k := range counts {
		if k < 0 {
			return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrInvalidArgument, "count %d for rank %d is negative", k, i)
		}
		if k > math.MaxInt32 {
			return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrUnsupported, "count %d for rank %d exceeds MPI's int counts", k, i)
		}
		total += k
	}
	if len(send) != total*es {
		return sizeError(name, "send buffer has %d bytes, counts add up to %d", len(send), total*es)
	}
	if len(recv) != counts[n.c.rank]*es {
		return sizeError(name, "receive buffer has %d bytes, rank %d's block is %d", len(recv), n.c.rank, counts[n.c.rank]*es)
	}
	send = separate(send, recv)
	cc := cInts(counts)
	dt, mop := cType(int(t)), cOp(int(op))
	return n.run(name, func() int {
		return cReduceScatter(ptr(send), ptr(recv), cc, dt, mop, n.c.h)
	})
}

// Gather concatenates every rank's send, in rank order, into root's recv (MPI_Igather).
func (n *native) Gather(send, recv []byte, root int) error {
	const name = "Gather"
	if err := n.checkRoot(name, root); err != nil {
		return err
	}
	if n.c.rank == root {
		if len(recv) != len(send)*n.c.size {
			return sizeError(name, "root's receive buffer has %d bytes, %d ranks × %d bytes expected", len(recv), n.c.size, len(send))
		}
		send = separate(send, recv)
	} else {
		recv = nil
	}
	count, t, free, err := blockType(name, len(send))
	if err != nil {
		return err
	}
	defer free()
	return n.run(name, func() int {
		return cGather(ptr(send), count, t, ptr(recv), count, t, root, n.c.h)
	})
}

// Scatter sends block i of root's send to rank i's recv (MPI_Iscatter).
func (n *native) Scatter(send, recv []byte, root int) error {
	const name = "Scatter"
	if err := n.checkRoot(name, root); err != nil {
		return err
	}
	if n.c.rank == root {
		if len(send) != len(recv)*n.c.size {
			return sizeError(name, "root's send buffer has %d bytes, %d ranks × %d bytes expected", len(send), n.c.size, len(recv))
		}
		send = separate(send, recv)
	} else {
		send = nil
	}
	count, t, free, err := blockType(name, len(recv))
	if err != nil {
		return err
	}
	defer free()
	return n.run(name, func() int {
		return cScatter(ptr(send), count, t, ptr(recv), count, t, root, n.c.h)
	})
}

// Allgather concatenates every rank's send, in rank order, into every rank's recv
// (MPI_Iallgather).
func (n *native) Allgather(send, recv []byte) error {
	const name = "Allgather"
	if len(recv) != len(send)*n.c.size {
		return sizeError(name, "receive buffer has %d bytes, %d ranks × %d bytes expected", len(recv), n.c.size, len(send))
	}
	send = separate(send, recv)
	count, t, free, err := blockType(name, len(send))
	if err != nil {
		return err
	}
	defer free()
	return n.run(name, func() int {
		return cAllgather(ptr(send), count, t, ptr(recv), count, t, n.c.h)
	})
}

// Alltoall sends block j of every rank i's send to block i of rank j's recv (MPI_Ialltoall).
func (n *native) Alltoall(send, recv []byte) error {
	const name = "Alltoall"
	if len(send) != len(recv) || len(send)%n.c.size != 0 {
		return sizeError(name, "send (%d bytes) and receive (%d bytes) buffers must be equal and divide into %d blocks", len(send), len(recv), n.c.size)
	}
	send = separate(send, recv)
	count, t, free, err := blockType(name, len(send)/n.c.size)
	if err != nil {
		return err
	}
	defer free()
	return n.run(name, func() int {
		return cAlltoall(ptr(send), count, t, ptr(recv), count, t, n.c.h)
	})
}

// checkLayout checks one rank's counts and displacements (in bytes) against a buffer of
// length n: one per rank, non-negative, within the buffer and within MPI's C ints.
func (n *native) checkLayout(name, what string, counts, displs []int, length int) error {
	if len(counts) != n.c.size || len(displs) != n.c.size {
		return sizeError(name, "%d %s counts and %d displacements for %d ranks", len(counts), what, len(displs), n.c.size)
	}
	for i := range counts {
		c, d := counts[i], displs[i]
		if c < 0 || d < 0 {
			return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrInvalidArgument, "%s count %d or displacement %d for rank %d is negative", what, c, d, i)
		}
		if c > math.MaxInt32 || d > math.MaxInt32 {
			return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrUnsupported, "%s count %d or displacement %d for rank %d exceeds MPI's int counts", what, c, d, i)
		}
		if c+d > length {
			return sizeError(name, "%s block of rank %d (%d bytes at %d) overruns the %d-byte buffer", what, i, c, d, length)
		}
	}
	return nil
}

func checkIntCount(name string, n int) error {
	if n > math.MaxInt32 {
		return backend.Errorf(name, backend.NoDirection, backend.NoPeer, -1, backend.ErrUnsupported, "%d-byte block exceeds MPI's int counts", n)
	}
	return nil
}

// Gatherv places every rank's send at displs[i] in root's recv (MPI_Igatherv). counts and
// displs (bytes) matter at root only.
func (n *native) Gatherv(send, recv []byte, counts, displs []int, root int) error {
	const name = "Gatherv"
	if err := n.checkRoot(name, root); err != nil {
		return err
	}
	if err := checkIntCount(name, len(send)); err != nil {
		return err
	}
	var cc, dd []cInt
	if n.c.rank == root {
		if err := n.checkLayout(name, "receive", counts, displs, len(recv)); err != nil {
			return err
		}
		if counts[root] != len(send) {
			return sizeError(name, "root sends %d bytes but its count is %d", len(send), counts[root])
		}
		send = separate(send, recv)
		cc, dd = cInts(counts), cInts(displs)
	} else {
		recv = nil
	}
	return n.run(name, func() int {
		return cGatherv(ptr(send), len(send), ptr(recv), cc, dd, root, n.c.h)
	})
}

// Scatterv sends counts[i] bytes at displs[i] of root's send to rank i's recv (MPI_Iscatterv).
func (n *native) Scatterv(send []byte, counts, displs []int, recv []byte, root int) error {
	const name = "Scatterv"
	if err := n.checkRoot(name, root); err != nil {
		return err
	}
	if err := checkIntCount(name, len(recv)); err != nil {
		return err
	}
	var cc, dd []cInt
	if n.c.rank == root {
		if err := n.checkLayout(name, "send", counts, displs, len(send)); err != nil {
			return err
		}
		if counts[root] != len(recv) {
			return sizeError(name, "root receives %d bytes but its count is %d", len(recv), counts[root])
		}
		send = separate(send, recv)
		cc, dd = cInts(counts), cInts(displs)
	} else {
		send = nil
	}
	return n.run(name, func() int {
		return cScatterv(ptr(send), cc, dd, ptr(recv), len(recv), root, n.c.h)
	})
}

// Allgatherv places every rank's send at displs[i] in every rank's recv (MPI_Iallgatherv).
func (n *native) Allgatherv(send, recv []byte, counts, displs []int) error {
	const name = "Allgatherv"
	if err := n.checkLayout(name, "receive", counts, displs, len(recv)); err != nil {
		return err
	}
	if counts[n.c.rank] != len(send) {
		return sizeError(name, "rank %d sends %d bytes but its count is %d", n.c.rank, len(send), counts[n.c.rank])
	}
	send = separate(send, recv)
	cc, dd := cInts(counts), cInts(displs)
	return n.run(name, func() int {
		return cAllgatherv(ptr(send), len(send), ptr(recv), cc, dd, n.c.h)
	})
}

// Alltoallv sends sendCounts[j] bytes at sendDispls[j] to rank j, which places them at its
// recvDispls[i] (MPI_Ialltoallv).
func (n *native) Alltoallv(send []byte, sendCounts, sendDispls []int, recv []byte, recvCounts, recvDispls []int) error {
	const name = "Alltoallv"
	if err := n.checkLayout(name, "send", sendCounts, sendDispls, len(send)); err != nil {
		return err
	}
	if err := n.checkLayout(name, "receive", recvCounts, recvDispls, len(recv)); err != nil {
		return err
	}
	send = separate(send, recv)
	sc, sd := cInts(sendCounts), cInts(sendDispls)
	rc, rd := cInts(recvCounts), cInts(recvDispls)
	return n.run(name, func() int {
		return cAlltoallv(ptr(send), sc, sd, ptr(recv), rc, rd, n.c.h)
	})
}
