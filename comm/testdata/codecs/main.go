// Command codecs measures ways of encoding a general Go value (one that takes gob's path in
// SendValue: maps, nested structures) for the wire, for docs/BENCHMARKS.md ("Go values"). It
// builds the value, encodes it into a file the way a sender would stream it, then decodes it
// from that file the way a receiver would, and reports the time and the peak resident set of
// each side above what the process held before it (VmHWM, reset through /proc/self/clear_refs).
//
//	go run ./comm/testdata/codecs -codec gob-stream -kind map -size 1G
//
// Codecs:
//
//	gob-buffer  gob into a bytes.Buffer, sent whole; received whole (RecvAlloc) and decoded from
//	            it: what SendValue did before
//	gob-exact   gob twice: once to count the bytes, then into a buffer of exactly that size
//	gob-stream  gob's output sent in 4 MiB chunks straight from the encoder's buffer; received
//	            in chunks read straight into the decoder's buffer
//	gob-batch   a map or slice cut into batches of about 1 MiB, one gob message each through
//	            one encoder; decoded batch by batch into a destination of the final size
//	json-stream encoding/json's Encoder and Decoder over the same chunked stream
package main

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

const chunk = 4 << 20

// Item is an element of -kind nested.
type Item struct {
	Name   string
	Tags   map[string]int
	Points []Point
}

// Point is part of an Item.
type Point struct{ X, Y float64 }

func main() {
	codec := flag.String("codec", "gob-stream", "gob-buffer, gob-exact, gob-stream, gob-batch or json-stream")
	kind := flag.String("kind", "map", "map (map[string][]int64, 1 KiB entries) or nested ([]Item)")
	size := flag.String("size", "256M", "approximate payload in bytes (K, M, G suffixes)")
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil {
		fail(err)
	}
	f, err := os.CreateTemp("", "codecs-")
	if err != nil {
		fail(err)
	}
	defer os.Remove(f.Name())

	v := build(*kind, n)
	settle()
	base := resetPeak()
	t0 := time.Now()
	if err := encode(*codec, f, v); err != nil {
		fail(err)
	}
	encTime := time.Since(t0)
	encPeak := peak() - base
	st, _ := f.Stat()
	v = nil
	settle()

	if _, err := f.Seek(0, io.SeekStart); err != nil {
		fail(err)
	}
	base = resetPeak()
	t0 = time.Now()
	got, err := decode(*codec, *kind, f, int(st.Size()))
	if err != nil {
		fail(err)
	}
	decTime := time.Since(t0)
	decPeak := peak() - base
	runtime.KeepAlive(got)
	fmt.Printf("%s %s payload %d MiB, encoded %d MiB: send %.2f s, +%d MiB peak; receive %.2f s, +%d MiB peak\n",
		*codec, *kind, n>>20, st.Size()>>20, encTime.Seconds(), encPeak>>20, decTime.Seconds(), decPeak>>20)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "codecs:", err)
	os.Exit(1)
}

func parseSize(s string) (int, error) {
	mult := 1
	for suf, m := range map[string]int{"K": 1 << 10, "M": 1 << 20, "G": 1 << 30} {
		if strings.HasSuffix(s, suf) {
			mult, s = m, strings.TrimSuffix(s, suf)
		}
	}
	v, err := strconv.Atoi(s)
	return v * mult, err
}

func build(kind string, n int) any {
	if kind == "map" {
		m := make(map[string][]int64, n/1024)
		for i := range n / 1024 {
			e := make([]int64, 128)
			for j := range e {
				e[j] = int64(i*128 + j)
			}
			m[strconv.Itoa(i)] = e
		}
		return m
	}
	// About 1 KiB per item: a name, two tags, 60 points.
	items := make([]Item, n/1024)
	for i := range items {
		pts := make([]Point, 60)
		for j := range pts {
			pts[j] = Point{float64(i), float64(j)}
		}
		items[i] = Item{Name: "item " + strconv.Itoa(i), Tags: map[string]int{"i": i, "n": len(pts)}, Points: pts}
	}
	return items
}

func newPtr(kind string) any {
	if kind == "map" {
		return new(map[string][]int64)
	}
	return new([]Item)
}

// chunkWriter stands for a sender that sends what it is given in chunks: straight from the
// caller's memory when a whole chunk is there, through a staging buffer of one chunk otherwise.
type chunkWriter struct {
	w     io.Writer
	stage []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(c.stage) > 0 {
		k := min(chunk-len(c.stage), len(p))
		c.stage = append(c.stage, p[:k]...)
		p = p[k:]
		if len(c.stage) == chunk {
			if _, err := c.w.Write(c.stage); err != nil {
				return 0, err
			}
			c.stage = c.stage[:0]
		}
	}
	for len(p) >= chunk {
		if _, err := c.w.Write(p[:chunk]); err != nil {
			return 0, err
		}
		p = p[chunk:]
	}
	if c.stage == nil {
		c.stage = make([]byte, 0, chunk)
	}
	c.stage = append(c.stage, p...)
	return n, nil
}

func (c *chunkWriter) flush() error {
	_, err := c.w.Write(c.stage)
	return err
}

// chunkReader stands for a receiver of chunks: a read of at least a chunk lands straight in the
// caller's memory, smaller ones go through a staging buffer of one chunk. It is an
// io.ByteReader, so that gob does not put a bufio.Reader in front of it.
type chunkReader struct {
	r     io.Reader
	stage []byte
	off   int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.off < len(c.stage) {
		n := copy(p, c.stage[c.off:])
		c.off += n
		return n, nil
	}
	if len(p) >= chunk {
		return io.ReadFull(c.r, p[:chunk])
	}
	if c.stage == nil {
		c.stage = make([]byte, chunk)
	}
	n, err := io.ReadAtLeast(c.r, c.stage[:chunk], 1)
	c.stage, c.off = c.stage[:n], 0
	if err != nil && n == 0 {
		return 0, err
	}
	m := copy(p, c.stage)
	c.off = m
	return m, nil
}

func (c *chunkReader) ReadByte() (byte, error) {
	var b [1]byte
	_, err := io.ReadFull(c, b[:])
	return b[0], err
}

type counter struct{ n int }

func (c *counter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

type exactBuf struct{ b []byte }

func (e *exactBuf) Write(p []byte) (int, error) { e.b = append(e.b, p...); return len(p), nil }

func encode(codec string, f *os.File, v any) error {
	switch codec {
	case "gob-buffer":
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(v); err != nil {
			return err
		}
		_, err := f.Write(b.Bytes())
		return err
	case "gob-exact":
		var c counter
		if err := gob.NewEncoder(&c).Encode(v); err != nil {
			return err
		}
		e := exactBuf{make([]byte, 0, c.n)}
		if err := gob.NewEncoder(&e).Encode(v); err != nil {
			return err
		}
		_, err := f.Write(e.b)
		return err
	case "gob-stream":
		w := &chunkWriter{w: f}
		if err := gob.NewEncoder(w).Encode(v); err != nil {
			return err
		}
		return w.flush()
	case "gob-batch":
		w := &chunkWriter{w: f}
		if err := encodeBatches(gob.NewEncoder(w), reflect.ValueOf(v)); err != nil {
			return err
		}
		return w.flush()
	case "json-stream":
		w := &chunkWriter{w: f}
		if err := json.NewEncoder(w).Encode(v); err != nil {
			return err
		}
		return w.flush()
	}
	return fmt.Errorf("unknown codec %q", codec)
}

// batchBytes is the target size of one batch.
const batchBytes = 1 << 20

// encodeBatches sends the length, then batches of elements sized from the first element's
// encoding.
func encodeBatches(enc *gob.Encoder, v reflect.Value) error {
	n := v.Len()
	if err := enc.Encode(n); err != nil {
		return err
	}
	per := 1
	if n > 0 {
		var c counter
		switch v.Kind() {
		case reflect.Map:
			it := v.MapRange()
			it.Next()
			_ = gob.NewEncoder(&c).EncodeValue(it.Value())
		default:
			_ = gob.NewEncoder(&c).EncodeValue(v.Index(0))
		}
		per = max(1, batchBytes/max(1, c.n))
	}
	if v.Kind() == reflect.Map {
		batch := reflect.MakeMapWithSize(v.Type(), per)
		it := v.MapRange()
		for it.Next() {
			batch.SetMapIndex(it.Key(), it.Value())
			if batch.Len() == per {
				if err := enc.EncodeValue(batch); err != nil {
					return err
				}
				batch.Clear()
			}
		}
		if batch.Len() > 0 {
			return enc.EncodeValue(batch)
		}
		return nil
	}
	for i := 0; i < n; i += per {
		if err := enc.EncodeValue(v.Slice(i, min(n, i+per))); err != nil {
			return err
		}
	}
	return nil
}

func decodeBatches(dec *gob.Decoder, ptr reflect.Value) error {
	var n int
	if err := dec.Decode(&n); err != nil {
		return err
	}
	dst := ptr.Elem()
	if dst.Kind() == reflect.Map {
		dst.Set(reflect.MakeMapWithSize(dst.Type(), n))
		batch := reflect.New(dst.Type())
		for dst.Len() < n {
			batch.Elem().Set(reflect.MakeMap(dst.Type()))
			if err := dec.DecodeValue(batch); err != nil {
				return err
			}
			it := batch.Elem().MapRange()
			for it.Next() {
				dst.SetMapIndex(it.Key(), it.Value())
			}
		}
		return nil
	}
	dst.Set(reflect.MakeSlice(dst.Type(), n, n))
	for i := 0; i < n; {
		part := reflect.New(dst.Type())
		part.Elem().Set(dst.Slice3(i, i, n)) // decodes in place: gob reuses a slice with room
		if err := dec.DecodeValue(part); err != nil {
			return err
		}
		if part.Elem().Len() == 0 {
			return fmt.Errorf("empty batch")
		}
		i += part.Elem().Len()
	}
	return nil
}

func decode(codec, kind string, f *os.File, size int) (any, error) {
	ptr := newPtr(kind)
	var err error
	switch codec {
	case "gob-buffer", "gob-exact":
		buf := make([]byte, size) // RecvAlloc
		if _, err = io.ReadFull(f, buf); err == nil {
			err = gob.NewDecoder(bytes.NewReader(buf)).Decode(ptr)
		}
	case "gob-stream":
		err = gob.NewDecoder(&chunkReader{r: f}).Decode(ptr)
	case "gob-batch":
		err = decodeBatches(gob.NewDecoder(&chunkReader{r: f}), reflect.ValueOf(ptr))
	case "json-stream":
		err = json.NewDecoder(bufio.NewReaderSize(&chunkReader{r: f}, 64<<10)).Decode(ptr)
	default:
		err = fmt.Errorf("unknown codec %q", codec)
	}
	return ptr, err
}

// settle collects garbage and returns memory to the system, so that the next phase starts from
// what is live.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

// resetPeak resets VmHWM to the current resident set and returns it.
func resetPeak() int {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return peak()
}

func peak() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			return kb << 10
		}
	}
	return 0
}
