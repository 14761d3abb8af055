package shm

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"

	"github.com/gompi/gompi/transport"
)

// A ring carries the frames of one ordered pair of ranks: one writer, one reader, no locks in
// shared memory. It is a circular buffer of records, each starting on a 64-byte line:
//
//	word 0  seq: the record's position in the stream / 64 + 1, stored last (release)
//	word 1  meta: record type (8 bits) | frame kind (8) | frame flags (16) | payload bytes here (32)
//	frame records only, 32 more bytes: context u32, tag u32, length u64, id u64, aux u64
//	then the payload bytes, up to the next line
//
// The reader polls word 0 at its position: the record is there when the word holds the
// expected seq. Before publishing a record the writer zeroes word 0 of the line after it, so
// the reader never takes bytes from an older lap (or a payload) for a header. Each side keeps
// its own position in its process and caches the other's: the writer reloads the reader's
// tail only when its cached copy says the ring is full, so a message in the common case
// touches the one line it is written to. A record that would run past the end of the buffer
// is preceded by a wrap record that fills the rest.
//
// A frame whose payload does not fit one record continues in records of type recCont; a Data
// frame whose payload the reader will copy from the writer's memory (CMA) is one recCMA record
// carrying the address and length.
const (
	recFrame = 1 // a frame header and the first piece of its payload
	recCont  = 2 // more payload of the frame before it
	recWrap  = 3 // skip to the start of the buffer
	recCMA   = 4 // a Data frame header and where its payload is in the writer's memory

	recHdr   = 16
	frameHdr = recHdr + 32
)

func meta(rtype uint8, kind transport.Kind, flags uint16, n int) uint64 {
	return uint64(rtype) | uint64(kind)<<8 | uint64(flags)<<16 | uint64(uint32(n))<<32
}

func metaType(m uint64) uint8  { return uint8(m) }
func metaCount(m uint64) int   { return int(m >> 32) }
func recLen(hdr, n int) uint64 { return uint64(roundUp(hdr+n, lineSize)) }
func seqOf(pos uint64) uint64  { return pos/lineSize + 1 }
func word(b []byte) *uint64    { return (*uint64)(unsafe.Pointer(&b[0])) }
func putHeader(b []byte, h *transport.Header) {
	binary.LittleEndian.PutUint32(b[16:], h.Context)
	binary.LittleEndian.PutUint32(b[20:], uint32(int32(h.Tag)))
	binary.LittleEndian.PutUint64(b[24:], uint64(h.Length))
	binary.LittleEndian.PutUint64(b[32:], h.ID)
	binary.LittleEndian.PutUint64(b[40:], h.Aux)
}

func getHeader(b []byte, m uint64) transport.Header {
	return transport.Header{
		Kind:    transport.Kind(m >> 8),
		Flags:   uint16(m >> 16),
		Context: binary.LittleEndian.Uint32(b[16:]),
		Tag:     int(int32(binary.LittleEndian.Uint32(b[20:]))),
		Length:  int64(binary.LittleEndian.Uint64(b[24:])),
		ID:      binary.LittleEndian.Uint64(b[32:]),
		Aux:     binary.LittleEndian.Uint64(b[40:]),
	}
}

// ringWords are a ring's control words in the segment.
type ringWords struct {
	waiting *uint32 // line A: the writer is parked until the reader frees space
	tail    *uint64 // line B: bytes the reader has consumed
	pulls   *uint64 // line B: CMA payloads the reader has copied
}

func (s *segment) ringAt(off int) (ringWords, []byte) {
	w := ringWords{waiting: s.word32(off), tail: s.word64(off + lineSize), pulls: s.word64(off + lineSize + 8)}
	return w, s.mem[off+ringCtlSize : off+ringCtlSize+s.l.ringSize]
}

// writer is the writing end of a ring, in the writer's process. Its user holds a lock.
type writer struct {
	ringWords
	data     []byte
	size     uint64
	head     uint64 // next position to write
	tailSeen uint64 // the reader's tail when last loaded
}

func newWriter(w ringWords, data []byte) writer {
	return writer{ringWords: w, data: data, size: uint64(len(data))}
}

// fits reports whether n more bytes, and the guard line after them, fit in the ring.
func (w *writer) fits(n uint64) bool {
	if w.head+n+lineSize-w.tailSeen <= w.size {
		return true
	}
	w.tailSeen = atomic.LoadUint64(w.tail)
	return w.head+n+lineSize-w.tailSeen <= w.size
}

// reserve returns the record of n bytes (a multiple of lineSize) at the head, writing a wrap
// record first when it would run past the end; ok is false when the ring has no room yet.
func (w *writer) reserve(n uint64) (rec []byte, ok bool) {
	off := w.head % w.size
	if off+n > w.size {
		rest := w.size - off
		if !w.fits(rest) {
			return nil, false
		}
		w.publish(w.data[off:], rest, meta(recWrap, 0, 0, 0))
		off = 0
	}
	if !w.fits(n) {
		return nil, false
	}
	return w.data[off : off+n], true
}

// publish makes the record rec of n bytes at the head visible to the reader.
func (w *writer) publish(rec []byte, n uint64, m uint64) {
	next := (w.head + n) % w.size
	// Plain stores: on the machines Go supports they are single aligned words, and the
	// atomic store of the seq below orders them (and the payload) before the record appears.
	*word(w.data[next:]) = 0
	binary.LittleEndian.PutUint64(rec[8:], m)
	atomic.StoreUint64(word(rec), seqOf(w.head))
	w.head += n
}

// reader is the reading end of a ring, in the reader's process. Its user holds the poll lock.
type reader struct {
	ringWords
	data []byte
	size uint64
	pos  uint64 // next position to read; the segment's tail word follows it
}

func newReader(w ringWords, data []byte) reader {
	return reader{ringWords: w, data: data, size: uint64(len(data))}
}

// peek returns the record at the tail and its meta word, or ok false if none is there yet.
func (r *reader) peek() (rec []byte, m uint64, ok bool) {
	off := r.pos % r.size
	if atomic.LoadUint64(word(r.data[off:])) != seqOf(r.pos) {
		return nil, 0, false
	}
	rec = r.data[off:]
	return rec, binary.LittleEndian.Uint64(rec[8:]), true
}

// advance consumes n bytes and tells the writer.
func (r *reader) advance(n uint64) {
	r.pos += n
	atomic.StoreUint64(r.tail, r.pos)
}
