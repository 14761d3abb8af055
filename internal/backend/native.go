package backend

// Type names the element type of a buffer given to a native reduction.
type Type int

// Element types. Their order is part of no wire format; only names matter.
const (
	Byte Type = iota
	Int8
	Int16
	Int32
	Int64
	Int
	Uint8
	Uint16
	Uint32
	Uint64
	Uint
	Uintptr
	Float32
	Float64
	Complex64
	Complex128
)

// Op names a predefined reduction operation given to a native reduction.
type Op int

// Predefined reduction operations.
const (
	OpSum Op = iota
	OpProd
	OpMin
	OpMax
	OpLAnd
	OpLOr
	OpLXor
	OpBAnd
	OpBOr
	OpBXor
)

// Native is a backend's own implementation of the collective operations (for OpenMPI, the MPI_*
// collectives). All buffers are bytes; counts and displacements are in bytes, except where a
// Type is given, in which case buffers hold elements of that type. Every rank of the communicator
// must call the same operations in the same order.
//
// A backend returns an error wrapping ErrUnsupported for a combination it cannot do natively
// (an element type with no MPI datatype, say); the caller then falls back to its own algorithm.
type Native interface {
	Barrier() error
	Bcast(buf []byte, root int) error
	Reduce(send, recv []byte, t Type, op Op, root int) error
	Allreduce(send, recv []byte, t Type, op Op) error
	Gather(send, recv []byte, root int) error
	Gatherv(send, recv []byte, counts, displs []int, root int) error
	Scatter(send, recv []byte, root int) error
	Scatterv(send []byte, counts, displs []int, recv []byte, root int) error
	Allgather(send, recv []byte) error
	Allgatherv(send, recv []byte, counts, displs []int) error
	Alltoall(send, recv []byte) error
	Alltoallv(send []byte, sendCounts, sendDispls []int, recv []byte, recvCounts, recvDispls []int) error
	// ReduceScatter reduces send (sum of counts elements) and scatters block i (counts[i] elements) to rank i.
	ReduceScatter(send, recv []byte, counts []int, t Type, op Op) error
	Scan(send, recv []byte, t Type, op Op) error
	Exscan(send, recv []byte, t Type, op Op) error
}
