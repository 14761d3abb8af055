package backend

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error a backend returns wraps one of them (or a context error), so
// callers test with errors.Is and never by text.
var (
	// ErrTruncated: a received message is longer than the receive buffer.
	ErrTruncated = errors.New("message truncated")
	// ErrInvalidRank: a rank outside 0..Size()-1 (or AnySource where it is not allowed).
	ErrInvalidRank = errors.New("invalid rank")
	// ErrInvalidTag: a tag outside 0..MaxTag (or AnyTag where it is not allowed).
	ErrInvalidTag = errors.New("invalid tag")
	// ErrInvalidRoot: the root of a collective is not a rank of the communicator.
	ErrInvalidRoot = errors.New("invalid root")
	// ErrInvalidArgument: some other argument is wrong (a negative count, a nil value, ...).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrSizeMismatch: buffer sizes are inconsistent with each other or with the communicator.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrPeerFailed: a rank the operation depends on died or lost its connection.
	ErrPeerFailed = errors.New("peer failed")
	// ErrClosed: the communicator (or the whole world) was freed or finalized.
	ErrClosed = errors.New("communicator closed")
	// ErrUnsupported: the backend cannot do this operation (the caller may fall back).
	ErrUnsupported = errors.New("operation not supported by backend")
	// ErrCanceled: the other side withdrew a message this receive had matched (its sender's
	// context ended). Cancellation by the caller's own context wraps ctx.Err() instead.
	ErrCanceled = errors.New("canceled by peer")
	// ErrCommNull: the communicator is the null communicator that Split returns to a rank
	// that passed Undefined as its color (MPI_COMM_NULL): it has no ranks, and every
	// operation on it fails.
	ErrCommNull = errors.New("null communicator (this rank passed Undefined to Split)")
)

// NoPeer, as Error.Peer, means the error concerns no particular rank.
const NoPeer = -2

// Direction says which way an operation's data goes between this rank and Error.Peer.
type Direction uint8

const (
	// NoDirection: no peer, or the operation both sends and receives (Split, a collective).
	NoDirection Direction = iota
	// ToPeer: the operation sends to Peer (Send, Isend, a rendezvous payload).
	ToPeer
	// FromPeer: the operation receives or probes from Peer (Recv, Irecv, Probe).
	FromPeer
)

// String is "to", "from" or "with".
func (d Direction) String() string {
	switch d {
	case ToPeer:
		return "to"
	case FromPeer:
		return "from"
	}
	return "with"
}

// Error is the error type of failed operations. It names the operation and whatever of the
// ranks, tag and sizes applies, and wraps one of the sentinels above and, when there is one,
// the underlying cause (a system error, a context's error): errors.Is finds either.
type Error struct {
	Op    string    // "Send", "Recv", "Allreduce", ...
	Dir   Direction // how the operation's data moves between this rank and Peer
	Peer  int       // the other rank involved, NoPeer when none, or AnySource (prints as "any rank")
	Tag   int       // the tag, or -1 when none applies
	Size  int       // the size of the message or buffer in question, or -1
	Limit int       // the size it was measured against (buffer length, expected size), or -1
	Msg   string    // extra detail, may be empty
	Err   error     // the sentinel (or a context's error)
	Cause error     // what made it happen (the transport's error for a failed peer), or nil
	// Origin, on an ErrPeerFailed error, is where the failure began as far as this rank knows:
	// the rank that went first, which may be another than Peer (the neighbour that gave up
	// because of it). nil when unknown.
	Origin *Origin
}

// Origin is the rank where a failure began: the first rank to go, as the failing rank's peers
// passed it on.
type Origin struct {
	Rank int  // its rank in the world
	Left bool // it finalized and left on purpose (its work returned early) rather than died
}

// String describes o: "rank 3 finalized and left" or "rank 3 failed".
func (o Origin) String() string {
	if o.Left {
		return fmt.Sprintf("rank %d finalized and left", o.Rank)
	}
	return fmt.Sprintf("rank %d failed", o.Rank)
}

// Error formats the error as "comm: OP from/to rank P, tag T: detail: cause".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("comm: ")
	b.WriteString(e.Op)
	if e.Peer >= 0 || e.Peer == AnySource { // NoPeer (or any other negative value): no rank named
		dir := " " + e.Dir.String()
		if e.Peer == AnySource {
			b.WriteString(dir + " any rank")
		} else {
			fmt.Fprintf(&b, "%s rank %d", dir, e.Peer)
		}
	}
	if e.Tag >= 0 {
		fmt.Fprintf(&b, ", tag %d", e.Tag)
	}
	b.WriteString(": ")
	if e.Msg != "" {
		b.WriteString(e.Msg)
		if e.Cause != nil {
			b.WriteString(": ")
			b.WriteString(e.Cause.Error())
		}
	} else if errors.Is(e.Err, ErrTruncated) && e.Size >= 0 && e.Limit >= 0 {
		fmt.Fprintf(&b, "%d-byte message does not fit a %d-byte buffer", e.Size, e.Limit)
	} else if e.Err != nil {
		b.WriteString(e.Err.Error())
		return b.String()
	}
	if e.Err != nil {
		b.WriteString(" (")
		b.WriteString(e.Err.Error())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the sentinel and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	switch {
	case e.Err == nil && e.Cause == nil:
		return nil
	case e.Cause == nil:
		return []error{e.Err}
	case e.Err == nil:
		return []error{e.Cause}
	}
	return []error{e.Err, e.Cause}
}

// Errorf builds an *Error with a formatted detail message and no size information. The
// direction is dir; NoPeer errors take NoDirection.
func Errorf(op string, dir Direction, peer, tag int, err error, format string, args ...any) *Error {
	return &Error{Op: op, Dir: dir, Peer: peer, Tag: tag, Size: -1, Limit: -1, Msg: fmt.Sprintf(format, args...), Err: err}
}
