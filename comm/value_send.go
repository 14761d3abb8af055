package comm

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/gompi/gompi/internal/backend"
)

const (
	// inlineMax is the longest gob stream that travels inside the header message.
	inlineMax = 32 << 10
	// chunkSize is the length of the chunks a longer gob stream travels in (the last is shorter).
	chunkSize = 4 << 20
	// rawAlign aligns the raw parts inside a single-message value, so that the receiver can use
	// them where they lie.
	rawAlign = 64
)

// valueHook, when set (by tests, through export_test.go), is called at points of a value's
// journey: "header sent", "header received".
var valueHook atomic.Pointer[func(event string)]

func hook(event string) {
	if f := valueHook.Load(); f != nil {
		(*f)(event)
	}
}

// partsOf returns the parts context of b, or nil when b has none.
func partsOf(b backend.Backend) backend.Backend {
	if vp, ok := b.(backend.ValueParts); ok {
		return vp.ValueParts()
	}
	return nil
}

// nextPartTag returns a tag for the parts of a new value sent on c: a fresh one per value, so
// that the parts of values in flight at once, from any goroutines, never meet.
func (c *Comm) nextPartTag() int { return int(c.partTags.Add(1) & backend.MaxTag) }

// sendValue sends v to rank dest with tag: its header on c, its parts on c's parts context,
// or, when c's backend has none, the whole value as one message.
func (c *Comm) sendValue(ctx context.Context, op string, v any, dest, tag int) error {
	p, err := planValue(v)
	if err != nil {
		return encodeErr(op, dest, tag, v, err)
	}
	if parts := partsOf(c.b); parts != nil {
		s := &partsSender{ctx: ctx, b: c.b, parts: parts, op: op, dest: dest, tag: tag, ptag: c.nextPartTag(), plan: p, v: v}
		return s.send()
	}
	msg, err := singleMessage(p)
	if err != nil {
		return encodeErr(op, dest, tag, v, err)
	}
	if err := c.b.Send(ctx, msg, dest, tag); err != nil {
		return relabel(err, op)
	}
	return nil
}

// partsSender sends one value in parts mode. The header goes first, on (dest, tag): with the
// gob stream in it when that stays under inlineMax, else announcing that the stream follows in
// chunks. Then come the chunks, then the raw parts, all on the parts context with tag ptag.
type partsSender struct {
	ctx       context.Context
	b, parts  backend.Backend
	op        string
	dest, tag int
	ptag      int
	plan      *valuePlan
	v         any

	h          header
	headerSent bool
	inGob      bool // the gob stream is being streamed and has not ended
	rawNext    int  // index in plan.parts of the next raw part to send
	inline     []byte
	stage      []byte
	written    int   // bytes of gob stream so far
	err        error // the first failed send
}

func (s *partsSender) send() error {
	s.h = header{mode: modeParts, partTag: s.ptag, parts: make([]partDesc, len(s.plan.parts))}
	for i, sp := range s.plan.parts {
		s.h.parts[i] = sp.partDesc
	}
	if s.plan.rest.IsValid() {
		s.h.flags |= flagRest
	}
	if s.plan.hasGob() {
		if err := encodeStream(gob.NewEncoder(s), s.plan, &s.written); err != nil {
			if s.err == nil { // gob failed, not a send
				s.err = encodeErr(s.op, s.dest, s.tag, s.v, err)
			}
			return s.abort()
		}
		if s.inGob {
			if err := s.sendPart(s.stage, "the end of the gob stream"); err != nil {
				return s.abort()
			}
			s.inGob = false
		}
	}
	if !s.headerSent {
		if err := s.sendHeader(); err != nil {
			return err
		}
	}
	for s.rawNext < len(s.plan.parts) {
		sp := s.plan.parts[s.rawNext]
		if !sp.kind.travelsRaw() {
			s.rawNext++
			continue
		}
		if err := s.sendPart(sp.data, sp.describe()); err != nil {
			return s.abort()
		}
		s.rawNext++
	}
	return nil
}

// sendHeader sends the header, with the gob stream that is inline so far.
func (s *partsSender) sendHeader() error {
	s.h.gobLen = len(s.inline)
	msg := appendHeader(make([]byte, 0, headerSize(s.h.parts)+len(s.inline)), &s.h)
	msg = append(msg, s.inline...)
	if err := s.b.Send(s.ctx, msg, s.dest, s.tag); err != nil {
		s.err = relabel(err, s.op)
		return s.err
	}
	s.headerSent = true
	hook("header sent")
	return nil
}

// sendPart sends one message on the parts context, unless ctx has ended: then the value is
// withdrawn at this part, whether or not the receiver is already waiting for it.
func (s *partsSender) sendPart(b []byte, what string) error {
	if err := s.ctx.Err(); err != nil {
		s.err = &backend.Error{Op: s.op, Dir: backend.ToPeer, Peer: s.dest, Tag: s.tag, Size: -1, Limit: -1,
			Msg: "withdrawn before " + what, Err: err}
		return s.err
	}
	if err := s.parts.Send(s.ctx, b, s.dest, s.ptag); err != nil {
		s.err = partErr(s.op, backend.ToPeer, s.dest, s.tag, "sending "+what, err)
		return s.err
	}
	return nil
}

// Write takes the gob stream: it stays inline while it is short, else the header leaves
// announcing a streamed gob, and the stream follows in chunks, straight from p when p holds a
// whole chunk, through a staging buffer otherwise.
func (s *partsSender) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := len(p)
	s.written += n
	if !s.headerSent {
		if len(s.inline)+len(p) <= inlineMax {
			s.inline = append(s.inline, p...)
			return n, nil
		}
		s.h.flags |= flagStreamed
		s.h.chunk = chunkSize
		inline := s.inline
		s.inline = nil
		if err := s.sendHeader(); err != nil {
			return 0, err
		}
		s.inGob = true
		s.stage = append(make([]byte, 0, chunkSize), inline...)
	}
	if len(s.stage) > 0 {
		k := min(chunkSize-len(s.stage), len(p))
		s.stage = append(s.stage, p[:k]...)
		p = p[k:]
		if len(s.stage) == chunkSize {
			if err := s.sendPart(s.stage, "a chunk of the gob stream"); err != nil {
				return 0, err
			}
			s.stage = s.stage[:0]
		}
	}
	for len(p) >= chunkSize {
		if err := s.sendPart(p[:chunkSize], "a chunk of the gob stream"); err != nil {
			return 0, err
		}
		p = p[chunkSize:]
	}
	s.stage = append(s.stage, p...)
	return n, nil
}

// abort ends a value that cannot be sent whole and returns why. Once the header has left, the
// receiver is told: an empty chunk ends the gob stream if it was under way, and an empty
// message stands for the raw parts that will not come (raw parts are never empty). These are
// sent whatever ctx says: they are small, so they never wait for the receiver.
func (s *partsSender) abort() error {
	if !s.headerSent {
		return s.err
	}
	bg := context.Background()
	if s.inGob {
		_ = s.parts.Send(bg, nil, s.dest, s.ptag)
	}
	for i := s.rawNext; i < len(s.plan.parts); i++ {
		if s.plan.parts[i].kind.travelsRaw() {
			_ = s.parts.Send(bg, nil, s.dest, s.ptag)
			break
		}
	}
	return s.err
}

// encodeStream writes p's gob stream to enc: the rest, then each part that travels as batches.
// written counts the bytes enc has written (the batch size adapts to it).
func encodeStream(enc *gob.Encoder, p *valuePlan, written *int) error {
	if p.rest.IsValid() {
		if err := enc.EncodeValue(p.rest); err != nil {
			return err
		}
	}
	for _, sp := range p.parts {
		if sp.kind == partBatches {
			if err := encodeBatches(enc, sp.v, written); err != nil {
				return err
			}
		}
	}
	return nil
}

// encodeBatches writes the elements of the map or slice v as batches of about batchTarget
// encoded bytes, each preceded by its number of elements, then a 0. A slice's batches are
// subslices of it; a map's are copied, a batch at a time, into a map that is reused.
func encodeBatches(enc *gob.Encoder, v reflect.Value, written *int) error {
	per := 16
	flush := func(batch reflect.Value) error {
		if err := enc.Encode(batch.Len()); err != nil {
			return err
		}
		before := *written
		if err := enc.EncodeValue(batch); err != nil {
			return err
		}
		got := max(1, *written-before)
		per = max(1, min(4*per, per*batchTarget/got, 1<<20))
		return nil
	}
	if v.Kind() == reflect.Map {
		batch := reflect.MakeMapWithSize(v.Type(), min(per, v.Len()))
		for it := v.MapRange(); it.Next(); {
			batch.SetMapIndex(it.Key(), it.Value())
			if batch.Len() >= per {
				if err := flush(batch); err != nil {
					return err
				}
				batch.Clear()
			}
		}
		if batch.Len() > 0 {
			if err := flush(batch); err != nil {
				return err
			}
		}
	} else {
		for i := 0; i < v.Len(); {
			j := min(v.Len(), i+per)
			if err := flush(v.Slice(i, j)); err != nil {
				return err
			}
			i = j
		}
	}
	return enc.Encode(0)
}

// segWriter keeps a gob stream in segments of chunkSize, so that it grows without copying.
type segWriter struct {
	segs [][]byte
	n    int
}

func (w *segWriter) Write(p []byte) (int, error) {
	n := len(p)
	w.n += n
	for len(p) > 0 {
		if len(w.segs) == 0 || len(w.segs[len(w.segs)-1]) == cap(w.segs[len(w.segs)-1]) {
			w.segs = append(w.segs, make([]byte, 0, max(len(p), min(chunkSize, max(4<<10, w.n)))))
		}
		last := &w.segs[len(w.segs)-1]
		k := min(cap(*last)-len(*last), len(p))
		*last = append(*last, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

// singleMessage lays out a value as one message: header, gob stream, then each raw part at an
// offset aligned to rawAlign. It returns the message's pieces, in order, and their total length.
func singleSegments(p *valuePlan) ([][]byte, int, error) {
	h := header{mode: modeSingle, parts: make([]partDesc, len(p.parts))}
	var gw segWriter
	if p.hasGob() {
		if err := encodeStream(gob.NewEncoder(&gw), p, &gw.n); err != nil {
			return nil, 0, err
		}
	}
	if p.rest.IsValid() {
		h.flags |= flagRest
	}
	h.gobLen = gw.n
	for i, sp := range p.parts {
		h.parts[i] = sp.partDesc
	}
	off := headerSize(h.parts) + gw.n
	var zeros [rawAlign]byte
	var raws [][]byte
	for i, sp := range p.parts {
		if !sp.kind.travelsRaw() {
			continue
		}
		aligned := (off + rawAlign - 1) &^ (rawAlign - 1)
		if aligned > off {
			raws = append(raws, zeros[:aligned-off])
		}
		h.parts[i].off = aligned
		raws = append(raws, sp.data)
		off = aligned + len(sp.data)
	}
	if off > maxLength {
		return nil, 0, fmt.Errorf("the value takes %d bytes, more than %d", off, int64(maxLength))
	}
	segs := append([][]byte{appendHeader(nil, &h)}, gw.segs...)
	return append(segs, raws...), off, nil
}

// singleMessage returns a value laid out as one message, in one buffer (a copy of the value).
func singleMessage(p *valuePlan) ([]byte, error) {
	segs, n, err := singleSegments(p)
	if err != nil {
		return nil, err
	}
	msg := make([]byte, 0, n)
	for _, s := range segs {
		msg = append(msg, s...)
	}
	return msg, nil
}

// encodeErr describes a value that cannot be encoded.
func encodeErr(op string, dest, tag int, v any, cause error) error {
	return &backend.Error{Op: op, Dir: backend.ToPeer, Peer: dest, Tag: tag, Size: -1, Limit: -1,
		Msg: fmt.Sprintf("cannot encode %T", v), Err: ErrInvalidArgument, Cause: cause}
}

// relabel names op as the operation of a backend error about a value's header.
func relabel(err error, op string) error {
	var be *backend.Error
	if !errors.As(err, &be) {
		return err
	}
	out := *be
	out.Op = op
	return &out
}

// partErr describes the failure of a message on the parts context: what it was, the value's
// tag (not the part tag), the sentinel and cause of the backend's error.
func partErr(op string, dir backend.Direction, peer, tag int, what string, err error) error {
	var be *backend.Error
	if !errors.As(err, &be) {
		return &backend.Error{Op: op, Dir: dir, Peer: peer, Tag: tag, Size: -1, Limit: -1, Msg: what, Cause: err}
	}
	msg := be.Msg
	if msg == "" && errors.Is(be.Err, ErrTruncated) && be.Size >= 0 && be.Limit >= 0 {
		msg = fmt.Sprintf("%d-byte message does not fit a %d-byte buffer", be.Size, be.Limit)
	}
	if msg != "" {
		what += ": " + msg
	}
	return &backend.Error{Op: op, Dir: dir, Peer: peer, Tag: tag, Size: be.Size, Limit: be.Limit, Msg: what, Err: be.Err, Cause: be.Cause}
}
