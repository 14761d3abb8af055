package comm

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"reflect"
	"unsafe"

	"github.com/gompi/gompi/internal/backend"
)

// aliasMin is the smallest raw part of a single-message value that the receiver leaves where it
// lies in the message instead of copying it out.
const aliasMin = 1 << 20

// errWithdrawn is the cause given when the sender gave up on a value it had started.
var errWithdrawn = errors.New("the sender gave up on the value after sending part of it (its context ended, or it failed)")

// recvValue receives a value into ptr: the header from (source, tag), then, in parts mode, the
// parts from the header's sender on c's parts context.
func (c *Comm) recvValue(ctx context.Context, ptr any, source, tag int) (Status, error) {
	const op = "RecvValue"
	if pv := reflect.ValueOf(ptr); ptr == nil || pv.Kind() != reflect.Pointer || pv.IsNil() {
		return Status{}, errorf(op, source, tag, ErrInvalidArgument, "the destination must be a non-nil pointer, got %T", ptr)
	}
	msg, st, err := c.b.RecvAlloc(ctx, source, tag)
	if err != nil {
		return st, relabel(err, op)
	}
	h, err := decodeHeader(msg)
	if err != nil {
		return st, &backend.Error{Op: op, Dir: backend.FromPeer, Peer: st.Source, Tag: st.Tag, Size: len(msg), Limit: -1,
			Msg: fmt.Sprintf("%d-byte message", len(msg)), Err: ErrInvalidArgument, Cause: err}
	}
	hook("header received")
	r := &valueReceiver{ctx: ctx, op: op, src: st.Source, tag: st.Tag, h: h, msg: msg, ptr: ptr}
	if h.mode == modeSingle {
		err = r.single()
	} else {
		if r.parts = partsOf(c.b); r.parts == nil {
			err = r.fail(ErrInvalidArgument, "the value was sent in parts, and this communicator has no context for them", nil)
		} else {
			err = r.inParts()
		}
	}
	st.Bytes = r.bytes + len(msg)
	return st, err
}

// valueReceiver receives one value. In parts mode it knows how far it got, so that on failure
// it can consume what the sender still sends (drain), and the sender never waits for a
// receiver that has gone.
type valueReceiver struct {
	ctx   context.Context
	op    string
	src   int // the sender, as a rank of the communicator
	tag   int // the value's tag
	h     *header
	msg   []byte // the header's message
	ptr   any
	parts backend.Backend
	bytes int // bytes of parts received

	// Progress of a parts-mode value.
	gobDone bool // the gob stream has ended (or was inline)
	rawNext int  // index in h.parts of the next part to receive raw
	chunks  *chunkReader
}

// fail builds an error of the receive, naming the sender and the value's tag.
func (r *valueReceiver) fail(sentinel error, msg string, cause error) error {
	return &backend.Error{Op: r.op, Dir: backend.FromPeer, Peer: r.src, Tag: r.tag, Size: -1, Limit: -1, Msg: msg, Err: sentinel, Cause: cause}
}

// decodeFail describes a gob stream that does not decode into the destination.
func (r *valueReceiver) decodeFail(cause error) error {
	if errors.Is(cause, errWithdrawn) || errors.Is(cause, io.ErrUnexpectedEOF) || errors.Is(cause, io.EOF) {
		if r.chunks != nil && r.chunks.ended {
			return r.fail(ErrCanceled, "the value's gob stream ends early", errWithdrawn)
		}
	}
	var be *backend.Error
	if errors.As(cause, &be) {
		return cause // a receive failed; it says why
	}
	return r.fail(ErrInvalidArgument, fmt.Sprintf("cannot decode %s into %T", r.h.what(), r.ptr), cause)
}

// single receives a value that came as one message: the gob stream and the raw parts are in msg.
func (r *valueReceiver) single() error {
	dst, err := r.decodeGob(bytes.NewReader(r.msg[r.h.gobOff : r.h.gobOff+r.h.gobLen]))
	if err != nil {
		return err
	}
	for _, p := range r.h.parts {
		if !p.kind.travelsRaw() {
			continue
		}
		v, skip, err := target(dst, p)
		if err != nil {
			return r.fail(ErrInvalidArgument, fmt.Sprintf("cannot receive %s into %T", r.h.what(), r.ptr), err)
		}
		if skip {
			continue
		}
		src := r.msg[p.off : p.off+p.n]
		switch {
		case p.kind == partString && p.n >= aliasMin:
			setString(v, src) // the message is garbage otherwise: nothing else holds it
		case p.kind == partString:
			setString(v, bytes.Clone(src))
		case v.Cap() < p.n/p.esize && p.n >= aliasMin && uintptr(unsafe.Pointer(unsafe.SliceData(src)))%uintptr(p.esize) == 0:
			// Leave the elements where they are in the message: the slice shares its array.
			v.Set(reflect.SliceAt(v.Type().Elem(), unsafe.Pointer(unsafe.SliceData(src)), p.n/p.esize).Convert(v.Type()))
		default:
			copy(rawTarget(v, p), src)
		}
	}
	return nil
}

// decodeGob decodes the gob stream from rd into the destination: the rest, then every part
// that travels as batches. It returns the destination (see destination).
func (r *valueReceiver) decodeGob(rd io.Reader) (reflect.Value, error) {
	var dec *gob.Decoder
	if r.h.flags&flagRest != 0 {
		dec = gob.NewDecoder(rd)
		if err := dec.Decode(r.ptr); err != nil {
			return reflect.Value{}, r.decodeFail(err)
		}
	}
	dst := destination(r.ptr)
	for _, p := range r.h.parts {
		if p.kind != partBatches {
			continue
		}
		if dec == nil {
			dec = gob.NewDecoder(rd)
		}
		v, skip, err := target(dst, p)
		if err != nil {
			return dst, r.fail(ErrInvalidArgument, fmt.Sprintf("cannot decode %s into %T", r.h.what(), r.ptr), err)
		}
		if err := decodeBatches(dec, v, p, skip); err != nil {
			return dst, r.decodeFail(err)
		}
	}
	if br, ok := rd.(*bytes.Reader); ok && br.Len() > 0 {
		return dst, r.fail(ErrInvalidArgument, fmt.Sprintf("%d bytes left over after the gob stream", br.Len()), nil)
	}
	return dst, nil
}

// decodeBatches decodes the batches of part p into v (a map or slice), or discards them.
// Like gob, it adds to a map that is not nil and reuses a slice with room enough.
func decodeBatches(dec *gob.Decoder, v reflect.Value, p partDesc, skip bool) error {
	if !skip {
		if v.Kind() == reflect.Map {
			if v.IsNil() {
				v.Set(reflect.MakeMapWithSize(v.Type(), p.n))
			}
		} else if v.Cap() >= p.n {
			v.SetLen(p.n)
		} else {
			if uint64(p.n)*uint64(max(1, v.Type().Elem().Size())) > maxLength {
				return fmt.Errorf("%d elements of %v", p.n, v.Type().Elem())
			}
			v.Set(reflect.MakeSlice(v.Type(), p.n, p.n))
		}
	}
	var batch reflect.Value
	got := 0
	for {
		var count int
		if err := dec.Decode(&count); err != nil {
			return err
		}
		if count == 0 {
			break
		}
		if count < 0 || count > p.n-got {
			return fmt.Errorf("a batch of %d elements after %d of %d", count, got, p.n)
		}
		switch {
		case skip:
			if err := dec.DecodeValue(reflect.Value{}); err != nil {
				return err
			}
		case v.Kind() == reflect.Map:
			if !batch.IsValid() {
				batch = reflect.New(v.Type())
				batch.Elem().Set(reflect.MakeMapWithSize(v.Type(), count))
			}
			if err := dec.DecodeValue(batch); err != nil {
				return err
			}
			for it := batch.Elem().MapRange(); it.Next(); {
				v.SetMapIndex(it.Key(), it.Value())
			}
			batch.Elem().Clear()
		default:
			// Decode in place: gob reuses a slice whose capacity is the batch's length.
			part := reflect.New(v.Type())
			part.Elem().Set(v.Slice3(got, got, got+count))
			if err := dec.DecodeValue(part); err != nil {
				return err
			}
			if part.Elem().Len() != count || (count > 0 && part.Elem().UnsafePointer() != v.Index(got).Addr().UnsafePointer()) {
				return fmt.Errorf("a batch announced as %d elements holds %d", count, part.Elem().Len())
			}
		}
		got += count
	}
	if got != p.n {
		return fmt.Errorf("%d elements of %d", got, p.n)
	}
	return nil
}

// inParts receives a value whose header came without its parts: first the gob stream (inline,
// or in chunks), then the raw parts, each straight into its slice.
func (r *valueReceiver) inParts() error {
	var rd io.Reader
	if r.h.flags&flagStreamed != 0 {
		r.chunks = &chunkReader{r: r}
		rd = r.chunks
	} else {
		r.gobDone = true
		rd = bytes.NewReader(r.msg[r.h.gobOff : r.h.gobOff+r.h.gobLen])
	}
	dst, err := r.decodeGob(rd)
	if err == nil && r.chunks != nil {
		err = r.chunks.finish()
	}
	if err != nil {
		return r.drain(err)
	}
	for r.rawNext < len(r.h.parts) {
		p := r.h.parts[r.rawNext]
		if !p.kind.travelsRaw() {
			r.rawNext++
			continue
		}
		v, skip, err := target(dst, p)
		if err != nil {
			return r.drain(r.fail(ErrInvalidArgument, fmt.Sprintf("cannot receive %s into %T", r.h.what(), r.ptr), err))
		}
		if err := r.ctx.Err(); err != nil {
			return r.drain(r.fail(err, "stopped before "+p.describe(), nil))
		}
		var buf []byte
		if !skip {
			buf = rawTarget(v, p)
		}
		st, err := r.parts.Recv(r.ctx, buf, r.src, r.h.partTag)
		// A message was taken (or, too long for buf, refused) unless the receive failed
		// otherwise: then it is still to come, or the sender withdrew it and its mark that it
		// gave up follows.
		taken := err == nil || errors.Is(err, ErrTruncated)
		if taken {
			r.rawNext++
		}
		switch {
		case err == nil && st.Bytes == 0:
			r.rawNext = len(r.h.parts) // the sender's mark that it gave up: nothing more comes
			return r.fail(ErrCanceled, "receiving "+p.describe(), errWithdrawn)
		case !taken || !skip && err != nil:
			return r.drain(partErr(r.op, backend.FromPeer, r.src, r.tag, "receiving "+p.describe(), err))
		case st.Bytes != p.n:
			return r.drain(r.fail(ErrSizeMismatch, fmt.Sprintf("%s came with %d bytes, the header said %d", p.describe(), st.Bytes, p.n), nil))
		case skip:
			continue // a field the destination does not have: dropped, or refused unmoved
		}
		if p.kind == partString {
			setString(v, buf)
		}
		r.bytes += st.Bytes
	}
	return nil
}

// drain consumes whatever the sender still sends of the value after the receive failed with
// err, and returns err. Messages of the parts context are received into an empty buffer: an
// eager one is taken and dropped, a rendezvous one refused without its payload moving (the
// sender's send completes either way). The sender sends the rest of the gob stream, an empty
// chunk to end it, and then either every raw part or one empty message when it gives up.
//
// When the receive's own context ended, drain returns at once and drains in the background;
// otherwise it drains before returning, which takes as long as the sender takes to send the
// remaining parts (rendezvous parts are refused, so their payloads never move). A failed peer
// or a closed communicator ends the drain.
func (r *valueReceiver) drain(err error) error {
	if r.ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		go r.drainRest()
		return err
	}
	r.drainRest()
	return err
}

func (r *valueReceiver) drainRest() {
	bg := context.Background()
	if !r.gobDone {
		for {
			st, err := r.parts.Recv(bg, nil, r.src, r.h.partTag)
			if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCanceled) {
				return
			}
			if err == nil || errors.Is(err, ErrTruncated) {
				if st.Bytes < r.h.chunk {
					break // the chunk that ends the stream
				}
			}
		}
	}
	for r.rawNext < len(r.h.parts) {
		if !r.h.parts[r.rawNext].kind.travelsRaw() {
			r.rawNext++
			continue
		}
		st, err := r.parts.Recv(bg, nil, r.src, r.h.partTag)
		switch {
		case err == nil && st.Bytes == 0:
			return // the sender gave up: nothing more comes
		case errors.Is(err, ErrCanceled):
			continue // the sender withdrew this part; its mark that it gave up follows
		case err != nil && !errors.Is(err, ErrTruncated):
			return
		}
		r.rawNext++
	}
}

// chunkReader reads a streamed gob stream from the parts context. A read of at least a chunk
// receives the next chunk straight into the caller's memory (gob reads a large message that
// way); smaller reads go through a staging buffer of one chunk. It is an io.ByteReader, so gob
// reads from it without buffering ahead.
type chunkReader struct {
	r     *valueReceiver
	stage []byte
	off   int  // stage[off:] is not yet read
	ended bool // the last chunk (shorter than the others) has come
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.off < len(c.stage) {
		n := copy(p, c.stage[c.off:])
		c.off += n
		return n, nil
	}
	if c.ended {
		return 0, io.EOF
	}
	ch := c.r.h.chunk
	if len(p) >= ch {
		return c.recv(p[:ch])
	}
	if c.stage == nil {
		c.stage = make([]byte, ch)
	}
	n, err := c.recv(c.stage[:ch])
	c.stage, c.off = c.stage[:n], 0
	if err != nil || n == 0 {
		return 0, err
	}
	m := copy(p, c.stage)
	c.off = m
	return m, nil
}

// recv receives the next chunk into b (len(b) is the chunk length).
func (c *chunkReader) recv(b []byte) (int, error) {
	r := c.r
	if err := r.ctx.Err(); err != nil {
		return 0, r.fail(err, "stopped before a chunk of the gob stream", nil)
	}
	st, err := r.parts.Recv(r.ctx, b, r.src, r.h.partTag)
	if err != nil {
		if errors.Is(err, ErrTruncated) {
			// Refused: a chunk longer than announced. Take it as the end of the stream.
			c.ended, r.gobDone = true, true
		}
		return 0, partErr(r.op, backend.FromPeer, r.src, r.tag, "receiving a chunk of the gob stream", err)
	}
	r.bytes += st.Bytes
	if st.Bytes < len(b) {
		c.ended = true
		r.gobDone = true
		if st.Bytes == 0 {
			return 0, io.EOF
		}
	}
	return st.Bytes, nil
}

func (c *chunkReader) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

// finish checks that the gob stream ended where its decoding did: the last chunk has come and
// nothing of it is left unread.
func (c *chunkReader) finish() error {
	if !c.ended && c.off == len(c.stage) {
		var b [1]byte
		if n, err := c.Read(b[:]); n > 0 || err != io.EOF {
			if err != nil && err != io.EOF {
				return err
			}
			c.off = len(c.stage)
			return c.r.fail(ErrInvalidArgument, "bytes left over after the gob stream", nil)
		}
	}
	if c.off < len(c.stage) {
		return c.r.fail(ErrInvalidArgument, fmt.Sprintf("%d bytes left over after the gob stream", len(c.stage)-c.off), nil)
	}
	return nil
}
