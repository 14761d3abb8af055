package comm

import (
	"context"
	"unsafe"

	"github.com/gompi/gompi/internal/backend"
)

// Elem is the set of element types a typed buffer may hold: fixed-size numbers and bytes.
// Their memory is moved as it is, so both sides must agree on the type (and, across machines,
// on byte order, as MPI does with homogeneous clusters).
type Elem interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int |
		~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uint | ~uintptr |
		~float32 | ~float64 | ~complex64 | ~complex128
}

// Bytes returns the memory of s as a byte slice, without copying.
func Bytes[T Elem](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

// Send sends the elements of send to rank dest of c with tag (MPI_Send). It returns when send
// may be reused; a small message may be buffered, a large one waits for the matching receive.
func Send[T Elem](c *Comm, send []T, dest, tag int) error {
	return c.b.Send(context.Background(), Bytes(send), dest, tag)
}

// SendContext is Send bounded by ctx: if ctx ends before a receiver has matched the message,
// the send is withdrawn and the error wraps ctx.Err(). Over TCP a large message whose payload
// is under way is withdrawn too, at its next fragment (512 KiB); its receiver's receive then
// fails with ErrCanceled.
func SendContext[T Elem](ctx context.Context, c *Comm, send []T, dest, tag int) error {
	return c.b.Send(ctx, Bytes(send), dest, tag)
}

// Recv receives a message from rank source with tag (either may be AnySource, AnyTag) into recv
// (MPI_Recv). The message may be shorter than recv; Count(status) tells how many elements came.
// A longer message is consumed and reported as an error wrapping ErrTruncated.
func Recv[T Elem](c *Comm, recv []T, source, tag int) (Status, error) {
	return c.b.Recv(context.Background(), Bytes(recv), source, tag)
}

// RecvContext is Recv bounded by ctx: if ctx ends before a message has matched, the receive is
// withdrawn and the error wraps ctx.Err().
func RecvContext[T Elem](ctx context.Context, c *Comm, recv []T, source, tag int) (Status, error) {
	return c.b.Recv(ctx, Bytes(recv), source, tag)
}

// Isend starts sending send to rank dest with tag and returns at once (MPI_Isend). The caller
// must not modify send until the request completes (Wait or Test reports it).
func Isend[T Elem](c *Comm, send []T, dest, tag int) (*Request, error) {
	r, err := c.b.Isend(Bytes(send), dest, tag)
	if err != nil {
		return nil, err
	}
	return &Request{r: r}, nil
}

// Irecv starts a receive into recv and returns at once (MPI_Irecv). The caller must not touch
// recv until the request completes.
func Irecv[T Elem](c *Comm, recv []T, source, tag int) (*Request, error) {
	r, err := c.b.Irecv(Bytes(recv), source, tag)
	if err != nil {
		return nil, err
	}
	return &Request{r: r}, nil
}

// Sendrecv sends send to dest and receives into recv from source at the same time, so that two
// ranks exchanging data cannot deadlock (MPI_Sendrecv). It returns the receive's status.
func Sendrecv[T, U Elem](c *Comm, send []T, dest, sendTag int, recv []U, source, recvTag int) (Status, error) {
	return SendrecvContext(context.Background(), c, send, dest, sendTag, recv, source, recvTag)
}

// SendrecvContext is Sendrecv bounded by ctx.
func SendrecvContext[T, U Elem](ctx context.Context, c *Comm, send []T, dest, sendTag int, recv []U, source, recvTag int) (Status, error) {
	rr, err := c.b.Irecv(Bytes(recv), source, recvTag)
	if err != nil {
		return Status{}, err
	}
	serr := c.b.Send(ctx, Bytes(send), dest, sendTag)
	if serr != nil {
		// Withdraw the receive (a cancelled context does that unless it already matched, in
		// which case Wait lets it finish) so its buffer is the caller's again.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, _ = rr.Wait(cctx)
		return Status{}, serr
	}
	return rr.Wait(ctx)
}

// Probe waits until a message from source with tag can be received and returns its status,
// without receiving it (MPI_Probe). Size a buffer with Count(status), then Recv it.
func (c *Comm) Probe(source, tag int) (Status, error) {
	return c.b.Probe(context.Background(), source, tag)
}

// ProbeContext is Probe bounded by ctx.
func (c *Comm) ProbeContext(ctx context.Context, source, tag int) (Status, error) {
	return c.b.Probe(ctx, source, tag)
}

// Iprobe reports whether a message from source with tag can be received now, and its status
// if so (MPI_Iprobe).
func (c *Comm) Iprobe(source, tag int) (Status, bool, error) {
	return c.b.Iprobe(source, tag)
}

// errorf is a shorthand for the package's own errors about receiving from peer.
func errorf(op string, peer, tag int, err error, format string, args ...any) error {
	return backend.Errorf(op, backend.FromPeer, peer, tag, err, format, args...)
}
