// Package transport defines the small interface the Go engine (internal/engine) needs from a way
// of moving framed bytes between the ranks of a job: in-process (transport/inproc) or over TCP
// (transport/tcp). Matching, eager and rendezvous protocols live in the engine, written once;
// a transport only delivers frames, in order, per pair of ranks.
package transport

import (
	"fmt"
	"sync/atomic"
)

// Kind is the type of a frame.
type Kind uint8

// Frame kinds. The numbers are part of the TCP wire format (docs/PROTOCOL.md).
const (
	// Eager carries a whole message.
	Eager Kind = 1
	// RTS (request to send) announces a large message of Length bytes; no payload.
	RTS Kind = 2
	// CTS (clear to send) answers an RTS: ID is the sender's send id, Aux the receiver's
	// receive id. Flags may carry FlagReject when the receiver will not take the payload.
	CTS Kind = 3
	// Data carries the payload of a large message, or one fragment of it: Length bytes
	// starting at byte Offset of the message. Aux is the receiver's receive id. A transport
	// that implements Fragmenter gets a message's fragments in order, one Send each.
	Data Kind = 4
	// Cancel withdraws a large message whose sender gave up (ID is the send id): an RTS not yet
	// answered, or a message whose payload was under way and stopped between two fragments.
	Cancel Kind = 5
	// Bye says the sender leaves on purpose; a connection closed after it is no failure.
	Bye Kind = 6
	// Fail says the sender is about to end because a failure that began elsewhere reached it:
	// Aux is the world rank where it began (as far as the sender knows), and Flags carries
	// FlagLeft when that rank left on purpose (finalized) rather than died. No payload. The
	// sender's connection then ends without Bye, so it is a failed peer all the same; the
	// frame only lets its peers' errors name where the failure began, not just the neighbour.
	Fail Kind = 7
)

// FlagLeft, on a Fail frame, says the rank where the failure began finalized and left (its
// work returned early) rather than died.
const FlagLeft uint16 = 1

// FlagReject, on a CTS, tells the sender the receiver will not read the payload (truncation):
// the send completes without sending Data.
const FlagReject uint16 = 1

// String names the kind, for errors and logs.
func (k Kind) String() string {
	switch k {
	case Eager:
		return "Eager"
	case RTS:
		return "RTS"
	case CTS:
		return "CTS"
	case Data:
		return "Data"
	case Cancel:
		return "Cancel"
	case Bye:
		return "Bye"
	case Fail:
		return "Fail"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Valid reports whether k is a known frame kind.
func (k Kind) Valid() bool { return k >= Eager && k <= Fail }

// Header is the fixed part of every frame.
type Header struct {
	Kind    Kind
	Flags   uint16
	Context uint32 // matching context of the communicator
	Source  int    // sender's rank in the world (set by the transport on arrival)
	Tag     int
	Length  int64  // payload length (Eager, Data) or announced message length (RTS)
	ID      uint64 // sender-side id (RTS, CTS, Cancel)
	Aux     uint64 // receiver-side id (CTS, Data)
	Offset  int64  // Data: where this fragment's payload starts in the message; 0 otherwise
}

// PayloadLen is the number of payload bytes that follow the header on the wire.
func (h *Header) PayloadLen() int64 {
	if h.Kind == Eager || h.Kind == Data {
		return h.Length
	}
	return 0
}

// Handler receives the frames a transport delivers. The engine implements it.
//
// For each frame, the transport calls Arrive with the header (Source set to the sending rank);
// Arrive returns the buffer the payload must be read into (exactly PayloadLen bytes, or nil to
// discard the payload) and a cookie. After the payload is in place (or could not be read, err
// non-nil), the transport calls Complete with the same header and cookie. Calls for frames from
// one peer are made in the order the frames were sent.
type Handler interface {
	Arrive(h Header) (dst []byte, cookie any)
	Complete(h Header, cookie any, err error)
	// PeerFailed reports that peer is gone: graceful is true when it said Bye first.
	PeerFailed(peer int, graceful bool, err error)
}

// Deliverer is implemented by handlers (the engine) that can take a whole frame in one call,
// header and payload together: a transport whose payload is already in memory (shared
// memory) saves the two steps of Arrive and Complete.
type Deliverer interface {
	Deliver(h Header, payload []byte)
}

// Fragmenter is implemented by transports that want the payload of a large message sent as
// several Data frames (TCP): one frame holds the connection for as long as it takes to write,
// so fragments let other frames to that peer pass between them, and let a sender whose
// context ends stop at a fragment boundary. Transports that do not implement it, or return
// 0, get the whole payload in one Data frame (Offset 0); they need not carry Offset.
type Fragmenter interface {
	// FragmentSize is the largest payload the engine should put in one Data frame to world
	// rank peer, or 0 for no limit.
	FragmentSize(peer int) int
}

// Transport moves frames between the ranks of one job.
//
// Send is safe for concurrent use; frames sent to one peer by one goroutine arrive in order.
// Send returns once payload may be reused by the caller. Handler methods are never called with
// a lock of the caller's held, but may be called from inside Send (the in-process transport
// delivers synchronously), so a handler must not call Send while holding its own lock.
type Transport interface {
	Rank() int
	Size() int
	// Start begins delivering incoming frames to h. It is called once, before any Send.
	Start(h Handler)
	// Send sends one frame to peer (which may not be the caller's own rank). For Eager and
	// Data frames, len(payload) must equal h.Length.
	Send(peer int, h Header, payload []byte) error
	// EagerLimit is the largest message the engine should send eagerly over this transport.
	EagerLimit() int
	// Close says Bye to every peer and releases the transport's resources.
	Close() error
}

// Poller is implemented by transports whose frames arrive only when somebody looks for them
// (shared memory): a goroutine that waits for a frame from a peer that Polls reports polls
// itself for a while, through Spin, before it parks. The engine does this in every blocking
// wait.
type Poller interface {
	// Polls reports whether frames from world rank peer arrive by polling.
	Polls(peer int) bool
	// Spin polls, following the rank's wait policy, while w holds 1, and returns true when
	// it holds something else, or false when the policy says to park. Frames that arrive
	// meanwhile are delivered to the handler as usual (which is how w changes). After false,
	// the caller counts as parked, and the transport keeps delivering for it, until it calls
	// Unpark.
	Spin(w *atomic.Uint32) bool
	// Park says the caller is about to block until a frame from any peer arrives, without
	// polling (as after a false Spin): the transport keeps delivering for it until Unpark.
	Park()
	// Unpark ends the parked state that Park or a false Spin began.
	Unpark()
	// Poll delivers what has arrived, once, and reports whether there was anything.
	Poll() bool
	// Watch says that goroutines may wait for frames without calling Spin (they select on a
	// request's channel): from now on the transport keeps delivering whenever nobody polls.
	Watch()
}

// HostMap is implemented by transports that know which ranks share a host (gompirun's, which
// reach the ranks of their own host through shared memory and the others through TCP), so
// that collectives can work in two levels: within each host, and between one rank per host.
type HostMap interface {
	// Hosts returns the host of every world rank, numbered 0, 1, ... in the order of each
	// host's lowest rank; nil when unknown. The same on every rank.
	Hosts() []int
}

// PeerEager is implemented by transports whose eager limit differs between peers (a job on
// shared memory within a host and TCP across hosts).
type PeerEager interface {
	// PeerEagerLimit is the largest message the engine should send eagerly to world rank peer.
	PeerEagerLimit(peer int) int
}
