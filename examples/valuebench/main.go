// Command valuebench sends one large Go value from rank 0 to rank 1 with SendValue and
// RecvValue, and reports how long it took and how much memory each rank needed for it: the
// process's peak resident set (VmHWM in /proc/self/status), beside the size of the value.
//
//	go run ./cmd/gompirun -n 2 ./examples/valuebench -size 1G
//	go run ./cmd/gompirun -n 2 --transport tcp ./examples/valuebench -size 1G -kind floats
//
// Kinds of value (-kind):
//
//	struct   a struct{Name string; Step int; Data []byte} whose Data holds -size bytes (default)
//	floats   a []float64 of -size bytes
//	string   a string of -size bytes
//	map      a map[string][]int64 of about -size bytes (entries of 1 KiB: the general, gob path)
//
// Each rank prints one line, rank 0 first, for example
//
//	rank 0: sent struct, 1073741824 bytes, in 0.612 s: 1.75 GB/s; peak RSS 1031 MiB, value 1024 MiB
//	rank 1: received struct, 1073741824 bytes, in 0.615 s: 1.75 GB/s; peak RSS 1030 MiB, value 1024 MiB
//
// GB/s is 10⁹ bytes per second of the value's payload; the time runs from a barrier both ranks
// leave together to the end of the rank's call. Rank 1 checks every byte it received and fails if
// one is wrong. Ranks beyond 1 idle.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

func main() {
	size := flag.String("size", "64M", "payload of the value in bytes (K, M, G suffixes: KiB, MiB, GiB)")
	kind := flag.String("kind", "struct", "kind of value: struct, floats, string or map")
	flag.Parse()
	n, err := parseSize(*size)
	if err != nil {
		fmt.Fprintf(os.Stderr, "valuebench: -size: %v\n", err)
		os.Exit(2)
	}
	if !validKind(*kind) {
		fmt.Fprintf(os.Stderr, "valuebench: -kind %q: want struct, floats, string or map\n", *kind)
		os.Exit(2)
	}
	comm.Main(func(c *comm.Comm) error { return run(c, *kind, n, os.Stdout) })
}

// Record is the value of -kind struct.
type Record struct {
	Name string
	Step int
	Data []byte
}

func validKind(k string) bool {
	switch k {
	case "struct", "floats", "string", "map":
		return true
	}
	return false
}

// parseSize reads 1024, 64K, 1M, 3G (powers of 1024).
func parseSize(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return v * mult, nil
}

func run(c *comm.Comm, kind string, n int, out interface{ Write([]byte) (int, error) }) error {
	if c.Size() < 2 {
		return fmt.Errorf("valuebench needs 2 ranks, got %d", c.Size())
	}
	me := c.Rank()
	var value any
	if me == 0 {
		value = makeValue(kind, n)
	}
	if err := collectives.Barrier(c); err != nil {
		return err
	}
	t0 := time.Now()
	var err error
	switch me {
	case 0:
		err = c.SendValue(value, 1, 1)
	case 1:
		value, err = recvValue(c, kind)
	}
	el := time.Since(t0)
	if err != nil {
		return err
	}
	if me == 1 {
		if err := checkValue(kind, value, n); err != nil {
			return err
		}
	}
	// Rank 0 prints first, so the lines come in rank order.
	if me == 1 {
		if _, err := comm.Recv(c, []byte(nil), 0, 2); err != nil {
			return err
		}
	}
	if me <= 1 {
		verb := [2]string{"sent", "received"}[me]
		fmt.Fprintf(out, "rank %d: %s %s, %d bytes, in %.3f s: %.2f GB/s; peak RSS %d MiB, value %d MiB\n",
			me, verb, kind, n, el.Seconds(), float64(n)/el.Seconds()/1e9, peakRSS()>>20, n>>20)
	}
	if me == 0 {
		return comm.Send(c, []byte(nil), 1, 2)
	}
	return nil
}

func recvValue(c *comm.Comm, kind string) (any, error) {
	var err error
	switch kind {
	case "struct":
		var v Record
		_, err = c.RecvValue(&v, 0, 1)
		return v, err
	case "floats":
		var v []float64
		_, err = c.RecvValue(&v, 0, 1)
		return v, err
	case "string":
		var v string
		_, err = c.RecvValue(&v, 0, 1)
		return v, err
	default:
		var v map[string][]int64
		_, err = c.RecvValue(&v, 0, 1)
		return v, err
	}
}

// block is the length of the pattern's blocks: block k is the base pattern with k in its
// first 8 bytes, so that a block landing in the wrong place is seen.
const block = 1 << 20

var base = func() []byte {
	b := make([]byte, block)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}()

func fill(b []byte) {
	for k := 0; k*block < len(b); k++ {
		blockOf(k, b[k*block:min(len(b), (k+1)*block)])
	}
}

// blockOf writes block k of the pattern (or its first len(w) bytes) into w.
func blockOf(k int, w []byte) {
	copy(w, base)
	var stamp [8]byte
	binary.LittleEndian.PutUint64(stamp[:], uint64(k))
	copy(w, stamp[:])
}

// check reports the first byte of b that fill would not have written (b is a []byte or a
// string, checked in place).
func check[T ~[]byte | ~string](b T) error {
	want := make([]byte, block)
	for k := 0; k*block < len(b); k++ {
		p := b[k*block : min(len(b), (k+1)*block)]
		w := want[:len(p)]
		blockOf(k, w)
		if string(p) != string(w) {
			for i := range len(p) {
				if p[i] != w[i] {
					return fmt.Errorf("byte %d is %d, want %d", k*block+i, p[i], w[i])
				}
			}
		}
	}
	return nil
}

// mapEntry is the number of int64 in each entry of a -kind map value (1 KiB).
const mapEntry = 128

func makeValue(kind string, n int) any {
	switch kind {
	case "struct":
		r := Record{Name: "valuebench", Step: 42, Data: make([]byte, n)}
		fill(r.Data)
		return r
	case "floats":
		v := make([]float64, n/8)
		fill(comm.Bytes(v))
		return v
	case "string":
		b := make([]byte, n)
		fill(b)
		return unsafe.String(unsafe.SliceData(b), n) // b is not changed again: no copy
	default:
		m := make(map[string][]int64, n/(8*mapEntry))
		for i := range n / (8 * mapEntry) {
			e := make([]int64, mapEntry)
			for j := range e {
				e[j] = int64(i*mapEntry + j)
			}
			m[strconv.Itoa(i)] = e
		}
		return m
	}
}

func checkValue(kind string, v any, n int) error {
	var err error
	switch kind {
	case "struct":
		r := v.(Record)
		if r.Name != "valuebench" || r.Step != 42 || len(r.Data) != n {
			return fmt.Errorf("received Record{Name %q, Step %d, %d bytes of Data}, want {valuebench, 42, %d}", r.Name, r.Step, len(r.Data), n)
		}
		err = check(r.Data)
	case "floats":
		f := v.([]float64)
		if len(f) != n/8 {
			return fmt.Errorf("received %d float64, want %d", len(f), n/8)
		}
		err = check(comm.Bytes(f))
	case "string":
		s := v.(string)
		if len(s) != n {
			return fmt.Errorf("received a string of %d bytes, want %d", len(s), n)
		}
		err = check(s)
	default:
		m := v.(map[string][]int64)
		if len(m) != n/(8*mapEntry) {
			return fmt.Errorf("received %d map entries, want %d", len(m), n/(8*mapEntry))
		}
		for k, e := range m {
			i, _ := strconv.Atoi(k)
			if len(e) != mapEntry || e[0] != int64(i*mapEntry) || e[mapEntry-1] != int64(i*mapEntry+mapEntry-1) {
				return fmt.Errorf("map entry %q is wrong", k)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("received %s: %w", kind, err)
	}
	return nil
}

// peakRSS returns the process's peak resident set in bytes (VmHWM), or 0 if unknown.
func peakRSS() int {
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
