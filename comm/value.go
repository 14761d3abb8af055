package comm

import (
	"context"

	"github.com/gompi/gompi/internal/backend"
)

// Go values: SendValue, IsendValue and RecvValue move any value that encoding/gob can encode,
// like mpi4py's lowercase send and recv, in memory bounded by about the value itself.
//
// What travels how. Pointers at the top of a value are followed, as gob does. Then:
//
//   - A slice of fixed-size numbers (the Elem types: []byte, []float64, []complex128, named
//     types of these kinds, ...) or a string, of at least 4 KiB, travels raw: its memory as it
//     is, straight from the sender's value into a slice of the right length that the receiver
//     allocates (or reuses, when the destination already holds a slice with room enough, as gob
//     would). Both sides must agree on byte order, as with typed buffers.
//   - So does each such field of a struct, when it is exported (and its type has no GobEncoder
//     or BinaryMarshaler methods of its own): the struct travels through gob with those fields
//     set aside, and the fields follow raw. The receiver finds them by name, as gob finds
//     fields, and drops those its own type lacks.
//   - A non-empty map, or a slice of other elements ([]string, []MyStruct, ...), at the top or
//     in an exported field of a struct at the top, travels through gob in batches of about
//     1 MiB: neither side ever holds its whole encoding, and the receiver sizes the map or
//     slice once, from the announced length, instead of growing it.
//   - Everything else (small slices and strings, numbers, nested structures, values with their
//     own gob methods) travels through gob, with gob's rules: fields match by name, a zero
//     field is not sent and leaves the receiver's field as it was, integers convert between
//     sizes, and so on. A raw slice does not convert: its element kind must match the
//     destination's exactly (int and int64 are different kinds).
//
// Memory. SendValue sends raw parts from the value's own memory and streams gob's output in
// chunks of 4 MiB: beyond the value, the sender needs a few MiB, plus, for a part of the value
// that goes through gob whole (not in batches), that part's encoding. RecvValue receives raw parts
// into their final slices and gob's chunks into gob's own buffer: beyond the value, the receiver
// needs a few MiB, plus one batch or one whole-gob part. IsendValue copies the value (so that
// the caller may change it at once) and sends the copy as one message: the sender holds about
// twice the value until the request completes.
//
// How a value travels (docs/PROTOCOL.md, "Go values", has the bytes): a header message on the
// program's (dest, tag) says what follows. On the Go transports (in-process, shared memory,
// TCP), the rest follows on the communicator's own context for value parts, which nothing else
// uses, with a tag chosen afresh for every value: a chunked gob stream, then each raw part as
// one message (large ones move by rendezvous, from the sender's slice into the receiver's).
// On OpenMPI, where a context of its own would take a collective MPI_Comm_dup, the whole value
// is one message (header, gob stream, raw parts); the receiver takes it whole and its large
// raw slices (1 MiB or more) stay where they landed, sharing that message's memory.
//
// Concurrency. Any number of goroutines may send and receive values and other messages on one
// communicator at once, with wildcards: only the header matches the receive's source and tag,
// like any message, and the rest of the value can only be received by the RecvValue that took
// its header. A plain receive (Recv, Irecv) that matches a value's header takes it as a plain
// message, and the value's sender may then wait for ever for a receiver of its parts: keep
// plain messages and values apart by tag or source, as MPI programs do with message types.
//
// Failures. If the receiver cannot take the value (a destination of the wrong type, a context
// that ends), RecvValue fails and consumes the parts that still come, refusing large ones
// without their payload moving, so the sender returns (without error: as for a plain message,
// whether the data was wanted is the receiver's business). If the sender's context ends after
// the header has left, the sender tells the receiver, whose RecvValue fails with ErrCanceled.
// On error the destination may be partly written, as with gob.

// SendValue sends v to rank dest with tag, like mpi4py's lowercase comm.send; the receiver
// takes it with RecvValue into a value of a compatible type. v may be anything encoding/gob can
// encode (structs with exported fields, maps, slices, strings, ...); see the comment on Go
// values above for how it travels. It returns when v may be changed again, after the receiver
// has taken every part of v but the last few KiB.
func (c *Comm) SendValue(v any, dest, tag int) error {
	return c.SendValueContext(context.Background(), v, dest, tag)
}

// SendValueContext is SendValue bounded by ctx. If ctx ends before the receiver has taken the
// whole value, the rest is withdrawn, the receiver's RecvValue fails with ErrCanceled (if it had
// taken the header), and the error wraps ctx.Err().
func (c *Comm) SendValueContext(ctx context.Context, v any, dest, tag int) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: "SendValue", Dir: backend.ToPeer, Peer: dest, Tag: tag, Size: -1, Limit: -1, Msg: "not started", Err: err}
	}
	return c.sendValue(ctx, "SendValue", v, dest, tag)
}

// IsendValue copies v, as one message, and starts sending the copy; v may be changed as soon as
// IsendValue returns. The copy takes about as much memory as v until the request completes;
// SendValue, which sends from v's own memory, needs none.
func (c *Comm) IsendValue(v any, dest, tag int) (*Request, error) {
	const op = "IsendValue"
	p, err := planValue(v)
	if err != nil {
		return nil, encodeErr(op, dest, tag, v, err)
	}
	msg, err := singleMessage(p)
	if err != nil {
		return nil, encodeErr(op, dest, tag, v, err)
	}
	r, err := c.b.Isend(msg, dest, tag)
	if err != nil {
		return nil, relabel(err, op)
	}
	return &Request{r: r}, nil
}

// RecvValue receives a value sent with SendValue or IsendValue from rank source with tag (either
// may be AnySource, AnyTag) and decodes it into ptr, which must be a non-nil pointer to a
// variable of a type compatible with the value's (like mpi4py's lowercase comm.recv). The
// status names the value's sender and tag; its Bytes are the bytes the value took on the wire.
func (c *Comm) RecvValue(ptr any, source, tag int) (Status, error) {
	return c.RecvValueContext(context.Background(), ptr, source, tag)
}

// RecvValueContext is RecvValue bounded by ctx. If ctx ends before a value has matched, nothing
// is received; if it ends while the value's parts arrive, RecvValueContext returns at once
// with an error wrapping ctx.Err(), and what remains of the value is consumed in the background
// (the sender is not left waiting).
func (c *Comm) RecvValueContext(ctx context.Context, ptr any, source, tag int) (Status, error) {
	return c.recvValue(ctx, ptr, source, tag)
}
