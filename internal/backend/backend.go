// Package backend is the contract between the public communicator (package comm) and the engines
// that move messages: the Go engine over a transport (in-process or TCP) and the OpenMPI binding
// (package mpi, build tag mpi).
//
// It sits at the bottom of the stack and imports nothing of gompi, so that comm, the engines and
// the collectives can all depend on it without cycles. Users normally never touch it: they use
// comm.Comm, which wraps a Backend.
//
// Buffers are byte slices; typed slices are turned into bytes by comm without copying. All counts
// and sizes are Go ints (64-bit): there is no 2 GiB limit anywhere in the contract.
package backend

import "context"

// AnySource, used as the source of a receive or probe, matches a message from any rank.
const AnySource = -1

// AnyTag, used as the tag of a receive or probe, matches a message with any tag.
const AnyTag = -1

// MaxTag is the largest tag a message may carry. Tags run from 0 to MaxTag.
const MaxTag = 1<<31 - 1

// Undefined, passed as the color to Split, leaves the calling rank out of every new communicator.
const Undefined = -32766

// Status describes a received or probed message.
type Status struct {
	// Source is the sender's rank in the communicator the message was received on.
	Source int
	// Tag is the message's tag.
	Tag int
	// Bytes is the length of the message in bytes.
	Bytes int
}

// Backend is one rank's view of one communicator.
//
// All methods are safe for concurrent use by many goroutines. Ranks are numbered 0..Size()-1
// within the communicator. Blocking methods return when ctx is done (with an error wrapping
// ctx.Err()) if the operation has not yet been matched; a receive that is already matched with
// an arriving message finishes first.
type Backend interface {
	// Rank is the calling rank's number in the communicator.
	Rank() int
	// Size is the number of ranks in the communicator.
	Size() int

	// Send sends buf to rank dest with tag; it returns when buf may be reused.
	Send(ctx context.Context, buf []byte, dest, tag int) error
	// Recv receives a message matching source and tag (either may be a wildcard) into buf.
	// A message longer than buf is an error wrapping ErrTruncated; the message is consumed.
	Recv(ctx context.Context, buf []byte, source, tag int) (Status, error)
	// RecvAlloc receives a matching message of any length into a newly allocated buffer.
	RecvAlloc(ctx context.Context, source, tag int) ([]byte, Status, error)
	// Isend starts a send; buf must not be modified until the request completes.
	Isend(buf []byte, dest, tag int) (Request, error)
	// Irecv starts a receive into buf; buf must not be touched until the request completes.
	Irecv(buf []byte, source, tag int) (Request, error)
	// Probe waits for a matching message without receiving it.
	Probe(ctx context.Context, source, tag int) (Status, error)
	// Iprobe reports whether a matching message can be received now, without receiving it.
	Iprobe(source, tag int) (Status, bool, error)

	// Split partitions the communicator by color, ordering each part by key, then by rank.
	// It is collective. A rank passing Undefined gets a nil Backend and a nil error.
	Split(ctx context.Context, color, key int) (Backend, error)
	// Dup returns a communicator with the same ranks and a separate matching context. Collective.
	Dup(ctx context.Context) (Backend, error)
	// Collective returns the shadow of this communicator that collective algorithms use: the same
	// ranks, but a separate context, so collective traffic never matches user point-to-point traffic.
	Collective() Backend
	// Native returns the backend's own collective operations, or nil when it has none and gompi's
	// algorithms over point-to-point must be used.
	Native() Native
	// Free releases the communicator. Pending operations on it fail with ErrClosed.
	Free() error
}

// Sendrecver is a Backend that can send one message and receive another at once, as
// MPI_Sendrecv does, without allocating: gompi's engine. Package collectives uses it for the
// exchanges of its algorithms when the shadow has it, and Irecv, Send and Wait otherwise. The
// send error and the receive error are returned apart; if the send fails, the receive is
// withdrawn unless it has matched (its error then wraps context.Canceled).
type Sendrecver interface {
	Sendrecv(ctx context.Context, sbuf []byte, dest, stag int, rbuf []byte, source, rtag int) (st Status, sendErr, recvErr error)
}

// HostMap is a Backend that may know which of its ranks share a host (gompi's engine under
// gompirun, over shared memory within a host and TCP across): Hosts returns that, the same on
// every rank, or nil when unknown. It is computed once per communicator: calling it is free.
type HostMap interface {
	Hosts() *Hosts
}

// Hosts says how a communicator's ranks sit on hosts. Hosts are numbered 0, 1, ... in the
// order of their lowest rank.
type Hosts struct {
	Of      []int   // the host of each rank
	Members [][]int // the ranks of each host, ascending
	Leaders []int   // the lowest rank of each host: Leaders[h] == Members[h][0]
}

// NewHosts returns the Hosts of ranks whose hosts are of (any numbers; equal numbers share a
// host).
func NewHosts(of []int) *Hosts {
	h := &Hosts{Of: make([]int, len(of))}
	number := map[int]int{}
	for r, x := range of {
		n, ok := number[x]
		if !ok {
			n = len(number)
			number[x] = n
			h.Members = append(h.Members, nil)
			h.Leaders = append(h.Leaders, r)
		}
		h.Of[r] = n
		h.Members[n] = append(h.Members[n], r)
	}
	return h
}

// ValueParts is implemented by backends that give each communicator a second point-to-point
// context of its own for the parts of large Go values (package comm's SendValue): the same
// ranks, a matching context that neither the program's messages nor the collectives use, and
// that exists as soon as the communicator does, so that using it is never a collective call.
// Package comm sends a value's header on the communicator and its parts there (see
// docs/PROTOCOL.md, "Go values"). A backend without it (OpenMPI, whose extra contexts need
// MPI_Comm_dup) receives each value as one message.
type ValueParts interface {
	// ValueParts returns the parts context, or nil when this communicator has none.
	ValueParts() Backend
}

// Request is a pending nonblocking operation.
//
// Its methods are safe for concurrent use. Once Wait or Test has reported completion, the
// operation's buffer belongs to the caller again.
type Request interface {
	// Wait blocks until the operation completes, or ctx is done and the operation could be cancelled.
	Wait(ctx context.Context) (Status, error)
	// Test reports whether the operation has completed, without blocking.
	Test() (Status, bool, error)
	// Done returns a channel that is closed when the operation completes.
	Done() <-chan struct{}
}

// World is the communicator that contains every rank of the job, plus the job's lifetime.
type World interface {
	Backend
	// Finalize shuts the rank's communication down after telling its peers it leaves on purpose.
	// It is safe to call more than once.
	Finalize() error
}
