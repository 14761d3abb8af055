package commtest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/gompi/gompi/comm"
)

type point struct {
	Name string
	XY   []float64
	Tags map[string]int
}

// record is a value of every kind of part: a struct whose []byte and []float64 travel raw
// when large, whose []string travels as gob batches, and whose other fields travel in gob.
type record struct {
	From, Goroutine, Seq int
	Data                 []byte
	Vals                 []float64
	Cplx                 []complex128
	Words                []string
	Empty                []int32
	Inner                struct{ Note string }
}

// recordSizes are the sizes of a record's Data by sequence number: in gob, raw and eager, raw
// and by rendezvous (the last two with enough Words for a gob stream that leaves in chunks).
var recordSizes = []int{10, 5000, 200 << 10, 1 << 20}

// stampBytes returns n bytes that depend on the sender, goroutine and sequence number of a
// record: byte i is i*31 + from*7 + g*3 + seq (mod 256). The pattern repeats every 256 bytes,
// so all but the first 256 are copied (quick under the race detector too).
func stampBytes(from, g, seq, n int) []byte {
	b := make([]byte, n)
	for i := range min(n, 256) {
		b[i] = byte(i*31 + from*7 + g*3 + seq)
	}
	for done := min(n, 256); done < n; done *= 2 {
		copy(b[done:], b[:done])
	}
	return b
}

func makeRecord(from, g, seq int) record {
	n := recordSizes[seq%len(recordSizes)]
	r := record{From: from, Goroutine: g, Seq: seq, Data: stampBytes(from, g, seq, n), Vals: make([]float64, n/8),
		Cplx: make([]complex128, n/64), Words: make([]string, min(n/4, 20000)), Empty: []int32{}}
	for i := range r.Vals {
		r.Vals[i] = float64(from) + float64(i)/7
	}
	for i := range r.Cplx {
		r.Cplx[i] = complex(float64(i), float64(-seq))
	}
	for i := range r.Words {
		r.Words[i] = strconv.Itoa(i + g)
	}
	r.Inner.Note = fmt.Sprintf("record %d/%d/%d", from, g, seq)
	return r
}

// checkRecord compares a received record with the one its stamps say was sent.
func checkRecord(got record) error {
	want := makeRecord(got.From, got.Goroutine, got.Seq)
	want.Empty = nil // gob sends no empty fields: they arrive nil
	if len(want.Cplx) == 0 {
		want.Cplx = nil
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Errorf("record %d/%d/%d arrived damaged: %d bytes of Data (want %d), %d Vals, %d Cplx, %d Words, note %q",
			got.From, got.Goroutine, got.Seq, len(got.Data), len(want.Data), len(got.Vals), len(got.Cplx), len(got.Words), got.Inner.Note)
	}
	return nil
}

// values: Go values of several kinds travel with SendValue, IsendValue and RecvValue, small
// ones in gob and large ones raw or in batches, between ranks and to oneself.
func values(c *comm.Comm) error {
	me, p := c.Rank(), c.Size()
	dest, src := (me+1)%p, (me-1+p)%p
	out := point{Name: fmt.Sprintf("from %d", me), XY: []float64{float64(me), 2.5}, Tags: map[string]int{"rank": me}}
	if err := c.SendValue(out, dest, 1); err != nil {
		return err
	}
	if err := c.SendValue([]float64{1.0, 2.0, 3.0, 4.0}, dest, 11); err != nil {
		return err
	}
	var in point
	st, err := c.RecvValue(&in, src, 1)
	if err != nil {
		return err
	}
	if in.Name != fmt.Sprintf("from %d", src) || in.XY[0] != float64(src) || in.Tags["rank"] != src || st.Source != src {
		return fmt.Errorf("RecvValue: got %+v", in)
	}
	var data []float64
	if _, err := c.RecvValue(&data, comm.AnySource, 11); err != nil {
		return err
	}
	if fmt.Sprint(data) != "[1 2 3 4]" {
		return fmt.Errorf("RecvValue of a slice: %v", data)
	}
	if _, err := c.RecvValue(nil, src, 1); !errors.Is(err, comm.ErrInvalidArgument) {
		return fmt.Errorf("RecvValue into nil: %v", err)
	}

	// Large values of each kind, around the ring. SendValue of a large value waits for its
	// receiver, which is itself sending, so SendValue runs in a goroutine of its own while
	// RecvValue takes the value from the previous rank.
	bigFloats := make([]float64, 300<<10)
	for i := range bigFloats {
		bigFloats[i] = math.Sqrt(float64(i))
	}
	bigCplx := make([]complex128, 20000)
	for i := range bigCplx {
		bigCplx[i] = complex(float64(i), 1)
	}
	bigMap := map[string][]int{}
	for i := range 5000 {
		bigMap[strconv.Itoa(i)] = []int{i, i * 2, i * 3}
	}
	type nestedValue struct {
		Points []point
		ByName map[string]point
		Matrix [][]float64
	}
	nest := nestedValue{ByName: map[string]point{}, Matrix: [][]float64{{1, 2}, bigFloats[:5000]}}
	for i := range 500 {
		pt := point{Name: strconv.Itoa(i), XY: []float64{float64(i)}, Tags: map[string]int{"i": i}}
		nest.Points = append(nest.Points, pt)
		nest.ByName[pt.Name] = pt
	}
	bigs := []struct {
		name string
		v    any
	}{
		{"record", makeRecord(me, 0, 3)},
		{"[]float64", bigFloats},
		{"[]complex128", bigCplx},
		{"map[string][]int", bigMap},
		{"string", strings.Repeat("gompi ", 200000)},
		{"nested", nest},
	}
	for i, b := range bigs {
		tag := 20 + i
		var r *comm.Request
		sent := make(chan error, 1)
		if i%2 == 0 {
			go func() { sent <- c.SendValue(b.v, dest, tag) }()
		} else if r, err = c.IsendValue(b.v, dest, tag); err != nil {
			return fmt.Errorf("IsendValue of %s: %w", b.name, err)
		}
		got := reflect.New(reflect.TypeOf(b.v))
		st, err := c.RecvValue(got.Interface(), src, tag)
		if err != nil {
			return fmt.Errorf("RecvValue of %s: %w", b.name, err)
		}
		if r != nil {
			if _, err := r.Wait(); err != nil {
				return fmt.Errorf("IsendValue of %s: %w", b.name, err)
			}
		} else if err := <-sent; err != nil {
			return fmt.Errorf("SendValue of %s: %w", b.name, err)
		}
		want := b.v
		if _, ok := want.(record); ok {
			w := makeRecord(src, 0, 3)
			w.Empty = nil // gob sends no empty fields
			want = w
		}
		if !reflect.DeepEqual(got.Elem().Interface(), want) || st.Source != src || st.Tag != tag {
			return fmt.Errorf("RecvValue of %s from rank %d, tag %d: got a different value (status %+v)", b.name, src, tag, st)
		}
	}
	// To oneself: SendValue does not wait for the receive.
	self := makeRecord(me, 1, 2)
	if err := c.SendValue(self, me, 30); err != nil {
		return fmt.Errorf("SendValue to oneself: %w", err)
	}
	var back record
	if _, err := c.RecvValue(&back, me, 30); err != nil {
		return fmt.Errorf("RecvValue from oneself: %w", err)
	}
	return checkRecord(back)
}

// valuesConcurrent: goroutines of every rank but 0 send values to rank 0, all on one tag, with
// plain messages on the same tag between them; rank 0 receives them with wildcards from
// several goroutines at once. No part of a value may land in another value or in a plain
// receive. Then every rank but 0 sends more values, which goroutines of rank 0 receive with
// AnySource and AnyTag.
func valuesConcurrent(c *comm.Comm) error {
	const goroutines, perGoroutine = 3, 4
	const plainLen = 3 // no value's header is this short
	me, p := c.Rank(), c.Size()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*p+p)
	if me != 0 {
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := range perGoroutine {
					if err := c.SendValue(makeRecord(me, g, seq), 0, 7); err != nil {
						errs <- fmt.Errorf("SendValue %d/%d: %w", g, seq, err)
						return
					}
					if err := comm.Send(c, []byte{byte(me), byte(g), byte(seq)}, 0, 7); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	} else {
		// One goroutine per sender, so that what a probe sees is what the next receive from
		// that sender takes: the size tells a plain message from a value.
		for from := 1; from < p; from++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				nextPlain := make([]int, goroutines)
				for range 2 * goroutines * perGoroutine {
					st, err := c.Probe(from, comm.AnyTag)
					if err != nil {
						errs <- err
						return
					}
					if st.Bytes == plainLen {
						b := make([]byte, plainLen)
						if _, err := comm.Recv(c, b, from, comm.AnyTag); err != nil {
							errs <- err
							return
						}
						if int(b[0]) != from || int(b[2]) != nextPlain[b[1]] {
							errs <- fmt.Errorf("plain message from rank %d: %v, want sequence %d", from, b, nextPlain[b[1]])
							return
						}
						nextPlain[b[1]]++
						continue
					}
					var r record
					st, err = c.RecvValue(&r, from, comm.AnyTag)
					if err != nil {
						errs <- fmt.Errorf("RecvValue from rank %d: %w", from, err)
						return
					}
					if err := checkRecord(r); err != nil {
						errs <- err
						return
					}
					if r.From != st.Source || st.Tag != 7 {
						errs <- fmt.Errorf("record from rank %d came with status %+v", r.From, st)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if err := barrier(c, 9); err != nil {
		return err
	}
	// AnySource and AnyTag, from several goroutines.
	if me != 0 {
		for g := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := range perGoroutine {
					if err := c.SendValue(makeRecord(me, g, seq), 0, 8+seq); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	} else {
		var mu sync.Mutex
		seen := map[[3]int]bool{}
		total := (p - 1) * goroutines * perGoroutine
		for w := range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range total / goroutines {
					var r record
					st, err := c.RecvValue(&r, comm.AnySource, comm.AnyTag)
					if err != nil {
						errs <- fmt.Errorf("receiver %d: RecvValue: %w", w, err)
						return
					}
					if err := checkRecord(r); err != nil {
						errs <- err
						return
					}
					id := [3]int{r.From, r.Goroutine, r.Seq}
					mu.Lock()
					dup := seen[id]
					seen[id] = true
					mu.Unlock()
					if dup || st.Source != r.From || st.Tag != 8+r.Seq {
						errs <- fmt.Errorf("record %v received twice, or with status %+v", id, st)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

// valuesWrongType: a value received into a destination of the wrong type fails with an error
// naming it, the sender returns, and the next value on the tag arrives whole.
func valuesWrongType(c *comm.Comm) error {
	me, p := c.Rank(), c.Size()
	dest, src := (me+1)%p, (me-1+p)%p
	type wrong struct{ Data []int16 }
	// The sends wait for the receiver, which is itself sending: they run in a goroutine.
	sent := make(chan error, 1)
	go func() {
		if err := c.SendValue(makeRecord(me, 0, 3), dest, 40); err != nil {
			sent <- fmt.Errorf("SendValue to a receiver that takes the wrong type: %w", err)
			return
		}
		sent <- c.SendValue(makeRecord(me, 0, 2), dest, 40)
	}()
	var w wrong
	_, err := c.RecvValue(&w, src, 40)
	if !errors.Is(err, comm.ErrInvalidArgument) || !strings.Contains(err.Error(), "Data") || !strings.Contains(err.Error(), fmt.Sprintf("rank %d, tag 40", src)) {
		return fmt.Errorf("RecvValue of a record into %T: %v, want ErrInvalidArgument naming field Data, rank %d and tag 40", w, err, src)
	}
	var r record
	if _, err := c.RecvValue(&r, src, 40); err != nil {
		return fmt.Errorf("RecvValue after a failed one: %w", err)
	}
	if err := <-sent; err != nil {
		return err
	}
	if err := checkRecord(r); err != nil {
		return err
	}
	if !bytes.Equal(r.Data, stampBytes(src, 0, 2, recordSizes[2])) {
		return fmt.Errorf("the record after the failed one is not the second one sent")
	}
	return nil
}

// bigRecord is the value of ValuesLarge32MiB: a struct whose Data and Vals travel raw.
type bigRecord struct {
	Name string
	Data []byte
	Vals []float64
	Tail []byte
}

// valuesLarge: a 32 MiB value (a struct with a 24 MiB []byte, an 8 MiB []float64 and a small
// []byte) goes from rank 0 to rank 1 with SendValue and back with IsendValue, into a fresh
// variable and into one whose slices are too short. On the Go transports its slices move by
// rendezvous, each straight into its destination; on OpenMPI the value is one message, whose
// large slices the receiver keeps where they landed.
func valuesLarge(c *comm.Comm) error {
	const nData, nVals = 24 << 20, 1 << 20
	if c.Rank() > 1 {
		return nil
	}
	bigValue := func(seed int) bigRecord {
		r := bigRecord{Name: fmt.Sprint("big ", seed), Data: stampBytes(seed, 1, 2, nData), Vals: make([]float64, nVals), Tail: []byte{1, 2, 3}}
		for i := range 1 << 10 {
			r.Vals[i] = float64(i*(seed+1)) / 3
		}
		for done := 1 << 10; done < nVals; done *= 2 {
			copy(r.Vals[done:], r.Vals[:done])
		}
		return r
	}
	if c.Rank() == 0 {
		if err := c.SendValue(bigValue(0), 1, 50); err != nil {
			return fmt.Errorf("SendValue of 32 MiB: %w", err)
		}
		back := bigRecord{Data: []byte{9}, Vals: []float64{9}}
		st, err := c.RecvValue(&back, 1, 51)
		if err != nil {
			return fmt.Errorf("RecvValue of 32 MiB: %w", err)
		}
		if st.Bytes < nData+8*nVals || !reflect.DeepEqual(back, bigValue(1)) {
			return fmt.Errorf("32 MiB value from rank 1 arrived damaged (%d bytes, name %q, %d bytes of Data, %d Vals)", st.Bytes, back.Name, len(back.Data), len(back.Vals))
		}
		return nil
	}
	var got bigRecord
	st, err := c.RecvValue(&got, 0, 50)
	if err != nil {
		return fmt.Errorf("RecvValue of 32 MiB: %w", err)
	}
	if st.Bytes < nData+8*nVals || !reflect.DeepEqual(got, bigValue(0)) {
		return fmt.Errorf("32 MiB value from rank 0 arrived damaged (%d bytes, name %q, %d bytes of Data, %d Vals)", st.Bytes, got.Name, len(got.Data), len(got.Vals))
	}
	got = bigRecord{}
	r, err := c.IsendValue(bigValue(1), 0, 51)
	if err != nil {
		return fmt.Errorf("IsendValue of 32 MiB: %w", err)
	}
	_, err = r.Wait()
	return err
}
