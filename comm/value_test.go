package comm_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/transport/inproc"
	"github.com/gompi/gompi/transport/shm/shmtest"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// runner starts a job of n ranks.
type runner struct {
	name string
	run  func(n int, f func(*comm.Comm) error) error
}

// valueRunners are the Go transports, plus one whose backend hides its parts context, so that
// SendValue sends every value as one message (as on OpenMPI).
var valueRunners = []runner{
	{"inproc", inproc.Run},
	{"shm", shmtest.Run},
	{"tcp", tcptest.Run},
	{"single-message", func(n int, f func(*comm.Comm) error) error {
		return inproc.Run(n, func(c *comm.Comm) error {
			return f(commlink.New[*comm.Comm](noParts{commlink.Backend(c)}))
		})
	}},
}

// noParts is a backend without a parts context.
type noParts struct{ backend.Backend }

// Types of the values in the round trips.
type (
	withBytes struct {
		Name string
		Step int
		When time.Time // has its own gob methods: stays in gob's part
		Data []byte
	}
	celsius    float64
	blob       []byte
	manySlices struct {
		B       []byte
		I8      []int8
		I16     []int16
		U32     []uint32
		I       []int
		F32     []float32
		F64     []float64
		C64     []complex64
		C128    []complex128
		Temps   []celsius
		Blob    blob
		Empty   []float64
		Nil     []int64
		Small   []float64
		Text    string
		Words   []string
		Counts  map[string]int
		Inner   *inner
		private []byte
	}
	inner struct {
		X []float64
		M map[int]string
	}
	nested struct {
		Title string
		A     inner
		Items []item
		Next  *nested
	}
	item struct {
		Name   string
		Points []point2
		Tags   map[string][]int
	}
	point2 struct{ X, Y float64 }
	// renamed has manySlices' fields in another order, some missing, and one more.
	renamed struct {
		Text  string
		F64   []float64
		B     []byte
		Words []string
		Extra int
	}
)

// pattern returns n bytes that depend on seed and the position.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>9 + seed)
	}
	return b
}

func floats(seed, n int) []float64 {
	f := make([]float64, n)
	for i := range f {
		f[i] = float64(seed) + float64(i)/3
	}
	return f
}

func makeMany(seed, n int) manySlices {
	m := manySlices{
		B: pattern(seed, n), I8: make([]int8, n), I16: make([]int16, n/2+1), U32: make([]uint32, n/4+1),
		I: make([]int, n/8+1), F32: make([]float32, n/4+1), F64: floats(seed, n/8+1),
		C64: make([]complex64, n/8+1), C128: make([]complex128, n/16+1), Temps: make([]celsius, n/8+1),
		Blob: blob(pattern(seed+1, n)), Empty: []float64{}, Small: []float64{1, 2, 3},
		Text: string(pattern(seed+2, n)), Words: []string{"a", "bc", strings.Repeat("d", 100)},
		Counts: map[string]int{"x": seed, "y": n}, Inner: &inner{X: floats(seed, n/8+1), M: map[int]string{1: "one"}},
		private: []byte{1},
	}
	for i := range m.I8 {
		m.I8[i] = int8(i - seed)
	}
	for i := range m.I16 {
		m.I16[i] = int16(i * 3)
	}
	for i := range m.U32 {
		m.U32[i] = uint32(i) * 2654435761
	}
	for i := range m.I {
		m.I[i] = -i * seed
	}
	for i := range m.F32 {
		m.F32[i] = float32(i) / 7
	}
	for i := range m.C64 {
		m.C64[i] = complex(float32(i), -float32(seed))
	}
	for i := range m.C128 {
		m.C128[i] = complex(float64(i), math.Pi)
	}
	for i := range m.Temps {
		m.Temps[i] = celsius(i) - 273.15
	}
	return m
}

func makeNested(seed, items int) nested {
	n := nested{Title: "t" + strconv.Itoa(seed), A: inner{X: floats(seed, 1000), M: map[int]string{seed: "s"}},
		Next: &nested{Title: "next", A: inner{X: []float64{1}}}}
	for i := range items {
		n.Items = append(n.Items, item{Name: strconv.Itoa(i), Points: []point2{{float64(i), 1}, {2, float64(seed)}},
			Tags: map[string][]int{"k": {i, seed}}})
	}
	return n
}

func bigMap(entries, width int) map[string][]int {
	m := make(map[string][]int, entries)
	for i := range entries {
		e := make([]int, width)
		for j := range e {
			e[j] = i*width + j
		}
		m["key"+strconv.Itoa(i)] = e
	}
	return m
}

// valueCase is a value to send and a way to make the receiver's destination.
type valueCase struct {
	name string
	v    any
	dst  func() any // a fresh pointer to the destination, maybe already holding something
}

func valueCases() []valueCase {
	zero := func(v any) func() any {
		t := reflect.TypeOf(v)
		return func() any { return reflect.New(t).Interface() }
	}
	var cases []valueCase
	add := func(name string, v any) { cases = append(cases, valueCase{name, v, zero(v)}) }
	for _, n := range []int{10, 5000, 200 << 10} { // in gob; raw, eager; raw, rendezvous
		s := strconv.Itoa(n)
		add("withBytes/"+s, withBytes{Name: "n" + s, Step: n, When: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Data: pattern(n, n)})
		add("float64/"+s, floats(n, n/8+1))
		c := make([]complex128, n/16+1)
		for i := range c {
			c[i] = complex(float64(i), float64(-n))
		}
		add("complex128/"+s, c)
		add("manySlices/"+s, makeMany(3, n))
		add("string/"+s, string(pattern(n, n)))
		add("celsius/"+s, make([]celsius, n/8+1))
	}
	add("pointer to struct", &withBytes{Name: "p", Data: pattern(1, 9000)})
	add("map small", map[string][]int{"a": {1, 2}, "b": nil})
	add("map inline-sized", bigMap(100, 10))
	add("map streamed", bigMap(20000, 40)) // several MiB of gob: chunks and batches
	add("nested", makeNested(5, 3))
	add("nested many items", makeNested(6, 30000))
	add("strings", []string{"x", strings.Repeat("y", 10000), ""})
	add("int", 42)
	add("empty string", "")
	add("empty slice", []float64{})
	add("array", [3]float64{1, 2, 3})
	// Destinations that already hold something: gob's rules (kept fields, reused slices,
	// maps added to) must hold.
	cases = append(cases,
		valueCase{"into filled struct", makeMany(4, 9000), func() any {
			m := makeMany(9, 20000)
			m.Empty, m.Nil = []float64{5}, []int64{6}
			return &m
		}},
		valueCase{"into filled map", bigMap(3000, 5), func() any { m := bigMap(10, 2); return &m }},
		valueCase{"into filled slice", floats(1, 3000), func() any { f := floats(2, 10000); return &f }},
		valueCase{"into other struct", makeMany(5, 9000), func() any { return &renamed{Extra: 7} }},
		valueCase{"into double pointer", withBytes{Data: pattern(2, 10000)}, func() any { return new(*withBytes) }},
	)
	return cases
}

// gobRoundTrip is what encoding/gob alone makes of v in dst: the result RecvValue must give.
func gobRoundTrip(v, dst any) error {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return err
	}
	return gob.NewDecoder(&b).Decode(dst)
}

// TestValueRoundTrips sends every case with SendValue and IsendValue, to the next rank and to
// itself, and compares what arrives with what gob alone makes of the value.
func TestValueRoundTrips(t *testing.T) {
	cases := valueCases()
	for _, r := range valueRunners {
		t.Run(r.name, func(t *testing.T) {
			err := r.run(2, func(c *comm.Comm) error {
				me := c.Rank()
				for i, tc := range cases {
					for _, how := range []string{"SendValue", "IsendValue", "self"} {
						if err := roundTrip(c, me, tc, how, i); err != nil {
							return fmt.Errorf("%s with %s: %w", tc.name, how, err)
						}
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// roundTrip sends tc from rank 0 to rank 1, or from each rank to itself. The receives use a
// wildcard for the source or the tag (not both: rank 0 may be a case ahead).
func roundTrip(c *comm.Comm, me int, tc valueCase, how string, tag int) error {
	switch {
	case how == "self":
		if err := c.SendValue(tc.v, me, tag); err != nil {
			return err
		}
		return receiveCase(c, me, tag, tc, me, tag)
	case me == 1:
		if how == "IsendValue" {
			return receiveCase(c, 0, tag, tc, comm.AnySource, tag)
		}
		return receiveCase(c, 0, tag, tc, 0, comm.AnyTag)
	case how == "IsendValue":
		r, err := c.IsendValue(tc.v, 1, tag)
		if err != nil {
			return err
		}
		_, err = r.Wait()
		return err
	}
	return c.SendValue(tc.v, 1, tag)
}

// receiveCase receives tc, sent by rank src with tag, asking for (source, askTag).
func receiveCase(c *comm.Comm, src, tag int, tc valueCase, source, askTag int) error {
	want := tc.dst()
	if err := gobRoundTrip(tc.v, want); err != nil {
		return fmt.Errorf("gob alone: %v", err)
	}
	got := tc.dst()
	st, err := c.RecvValue(got, source, askTag)
	if err != nil {
		return err
	}
	if st.Source != src || st.Tag != tag || st.Bytes <= 0 {
		return fmt.Errorf("status %+v, want source %d, tag %d", st, src, tag)
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("received %.300v,\nwant (gob alone) %.300v", describe(got), describe(want))
	}
	return nil
}

// describe shortens a value for a failure message.
func describe(v any) string { return fmt.Sprintf("%+v", v) }

// TestValueWrongType: a value received into a destination of the wrong type fails with an error
// naming both, the sender returns, and the next value on the same tag arrives intact.
func TestValueWrongType(t *testing.T) {
	type wrongField struct{ B []int32 }
	type wrongKind struct{ F64 []float32 }
	dsts := []struct {
		name string
		ptr  any
		want string
	}{
		{"map for struct", new(map[string]int), "cannot decode"},
		{"field of another element", new(wrongField), "B"},
		{"field of another kind", new(wrongKind), "F64"},
		{"slice for struct", new([]float64), "cannot decode"},
		{"not a pointer", withBytes{}, "non-nil pointer"},
	}
	value := manySlices{B: pattern(1, 300<<10), F64: floats(1, 100<<10), Words: make([]string, 50000), Text: strings.Repeat("t", 8000)}
	for _, r := range valueRunners {
		t.Run(r.name, func(t *testing.T) {
			err := r.run(2, func(c *comm.Comm) error {
				for _, d := range dsts {
					if c.Rank() == 0 {
						if d.name != "not a pointer" {
							if err := c.SendValue(value, 1, 3); err != nil {
								return fmt.Errorf("%s: SendValue: %v", d.name, err)
							}
						}
						if err := c.SendValue(withBytes{Name: "next", Data: pattern(2, 100<<10)}, 1, 3); err != nil {
							return err
						}
						continue
					}
					if d.name != "not a pointer" {
						_, err := c.RecvValue(d.ptr, 0, 3)
						if !errors.Is(err, comm.ErrInvalidArgument) || !strings.Contains(err.Error(), d.want) ||
							!strings.Contains(err.Error(), "RecvValue from rank 0, tag 3") {
							return fmt.Errorf("%s: RecvValue: %v; want ErrInvalidArgument naming %q, rank 0 and tag 3", d.name, err, d.want)
						}
					} else if _, err := c.RecvValue(d.ptr, 0, 3); !errors.Is(err, comm.ErrInvalidArgument) || !strings.Contains(err.Error(), d.want) {
						return fmt.Errorf("%s: RecvValue: %v", d.name, err)
					}
					var next withBytes
					if _, err := c.RecvValue(&next, 0, 3); err != nil || next.Name != "next" || !bytes.Equal(next.Data, pattern(2, 100<<10)) {
						return fmt.Errorf("%s: the value after: %v, %q", d.name, err, next.Name)
					}
				}
				// A plain message is not a value.
				if c.Rank() == 0 {
					return comm.Send(c, []byte("plain"), 1, 4)
				}
				var v withBytes
				if _, err := c.RecvValue(&v, 0, 4); !errors.Is(err, comm.ErrInvalidArgument) || !strings.Contains(err.Error(), "not a value") {
					return fmt.Errorf("RecvValue of a plain message: %v", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestValueContextMidValue: a context that ends after the header has left, on either side.
// The side whose context ended returns its error, the other side returns too (the receiver with
// ErrCanceled when the sender gave up), and the next value on the same tag arrives intact.
func TestValueContextMidValue(t *testing.T) {
	values := map[string]any{
		"streamed gob and raw parts": manySlices{B: pattern(1, 1<<20), F64: floats(1, 100<<10), Words: make([]string, 300000)},
		"raw parts":                  withBytes{Name: "w", Data: pattern(1, 1<<20)},
	}
	for _, r := range valueRunners[:3] { // the single-message runner has no middle of a value
		for name, v := range values {
			for _, side := range []string{"receiver", "sender"} {
				t.Run(r.name+"/"+name+"/"+side, func(t *testing.T) {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					event := map[string]string{"receiver": "header received", "sender": "header sent"}[side]
					defer comm.SetValueHook(func(e string) {
						if e == event {
							cancel()
						}
					})()
					err := r.run(2, func(c *comm.Comm) error { return midValue(c, ctx, side, v) })
					if err != nil {
						t.Fatal(err)
					}
				})
			}
		}
	}
}

func midValue(c *comm.Comm, ctx context.Context, side string, v any) error {
	next := withBytes{Name: "next", Data: pattern(3, 300<<10)}
	if c.Rank() == 0 {
		sctx := context.Background()
		if side == "sender" {
			sctx = ctx
		}
		err := c.SendValueContext(sctx, v, 1, 5)
		if side == "sender" && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("SendValueContext whose context ends after the header: %v, want context.Canceled", err)
		}
		if side == "receiver" && err != nil {
			return fmt.Errorf("SendValue to a receiver that gave up: %v", err)
		}
		return c.SendValue(next, 1, 5)
	}
	rctx := context.Background()
	if side == "receiver" {
		rctx = ctx
	}
	dst := reflect.New(reflect.TypeOf(v)).Interface()
	_, err := c.RecvValueContext(rctx, dst, 0, 5)
	switch side {
	case "receiver":
		if !errors.Is(err, context.Canceled) {
			return fmt.Errorf("RecvValueContext whose context ends after the header: %v, want context.Canceled", err)
		}
	case "sender":
		if !errors.Is(err, comm.ErrCanceled) || !strings.Contains(err.Error(), "RecvValue from rank 0, tag 5") {
			return fmt.Errorf("RecvValue of a value its sender gave up: %v, want ErrCanceled", err)
		}
	}
	var got withBytes
	if _, err := c.RecvValue(&got, 0, 5); err != nil || !reflect.DeepEqual(got, next) {
		return fmt.Errorf("the value after: %v, %q with %d bytes", err, got.Name, len(got.Data))
	}
	return nil
}
