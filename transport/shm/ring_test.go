package shm

import (
	"encoding/binary"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/gompi/gompi/transport"
)

// testRing returns the two ends of a ring of size bytes over ordinary memory.
func testRing(size int) (*writer, *reader) {
	words := make([]uint64, (ringCtlSize+size)/8)
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
	s := &segment{l: layout{ringSize: size}, mem: mem}
	w, data := s.ringAt(0)
	wr, rd := newWriter(w, data), newReader(w, data)
	return &wr, &rd
}

// TestRingStream sends records of random sizes, from empty to a quarter of the ring, from one
// goroutine to another through a small ring, many laps over, with payloads that imitate
// headers (so that a stale payload read as a header would be caught), and checks every byte.
func TestRingStream(t *testing.T) {
	const size = 8 << 10
	w, r := testRing(size)
	const records = 20000
	rng := rand.New(rand.NewPCG(1, 2))
	lens := make([]int, records)
	for i := range lens {
		lens[i] = rng.IntN(size/4 - frameHdr)
	}
	fill := func(i int, b []byte) {
		for k := 0; k+8 <= len(b); k += 8 {
			binary.LittleEndian.PutUint64(b[k:], uint64(i*64+k)/lineSize+1) // looks like a seq
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, size)
		for i, n := range lens {
			l := recLen(frameHdr, n)
			var rec []byte
			for {
				var ok bool
				if rec, ok = w.reserve(l); ok {
					break
				}
				runtime.Gosched()
			}
			fill(i, buf[:n])
			putHeader(rec, &transport.Header{Kind: transport.Eager, Tag: i, Length: int64(n)})
			copy(rec[frameHdr:], buf[:n])
			w.publish(rec, l, meta(recFrame, transport.Eager, 0, n))
		}
	}()
	want := make([]byte, size)
	for i := 0; i < records; {
		rec, m, ok := r.peek()
		if !ok {
			runtime.Gosched()
			continue
		}
		switch metaType(m) {
		case recWrap:
			r.advance(r.size - r.pos%r.size)
			continue
		case recFrame:
		default:
			t.Fatalf("record %d: type %d", i, metaType(m))
		}
		h := getHeader(rec, m)
		n := metaCount(m)
		if h.Tag != i || n != lens[i] || h.Length != int64(n) || h.Kind != transport.Eager {
			t.Fatalf("record %d: header %+v, %d bytes; want tag %d, %d bytes", i, h, n, i, lens[i])
		}
		fill(i, want[:n])
		if got := rec[frameHdr : frameHdr+n]; string(got) != string(want[:n]) {
			t.Fatalf("record %d: payload differs", i)
		}
		r.advance(recLen(frameHdr, n))
		i++
	}
	<-done
	if _, _, ok := r.peek(); ok {
		t.Fatal("a record after the last one")
	}
	if got := atomic.LoadUint64(r.tail); got != w.head {
		t.Fatalf("tail %d, head %d", got, w.head)
	}
}

// TestRingFull: a writer that has filled the ring gets no room until the reader frees some,
// and never more than the ring minus the guard line.
func TestRingFull(t *testing.T) {
	w, r := testRing(8 << 10)
	n := 0
	for {
		rec, ok := w.reserve(lineSize)
		if !ok {
			break
		}
		w.publish(rec, lineSize, meta(recFrame, transport.Eager, 0, 0))
		n++
	}
	if n != 8<<10/lineSize-1 {
		t.Fatalf("ring of %d lines took %d one-line records, want %d", 8<<10/lineSize, n, 8<<10/lineSize-1)
	}
	if _, _, ok := r.peek(); !ok {
		t.Fatal("reader sees nothing")
	}
	r.advance(lineSize)
	if _, ok := w.reserve(lineSize); !ok {
		t.Fatal("no room after the reader freed a line")
	}
}
