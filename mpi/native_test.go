//go:build mpi

package mpi_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
)

// lengths are the element counts every collective is checked with.
var lengths = []int{0, 1, 7, 1000}

// reduction describes one (type, op) pair: how rank r's element i is made and how two elements
// combine, so that the expected result is computed serially.
type reduction[T comm.Elem] struct {
	name    string
	t       backend.Type
	op      backend.Op
	value   func(r, i int) T
	combine func(a, b T) T
}

// checkReductions checks Reduce (every root), Allreduce (also in place), Scan, Exscan and
// ReduceScatter against serial references.
func checkReductions[T comm.Elem](t *testing.T, c *comm.Comm, red reduction[T]) {
	nat := commlink.Native(c)
	me, p := c.Rank(), c.Size()
	for _, n := range lengths {
		send := make([]T, n)
		for i := range send {
			send[i] = red.value(me, i)
		}
		// prefix[r][i] combines ranks 0..r.
		prefix := make([][]T, p)
		for r := range p {
			prefix[r] = make([]T, n)
			for i := range n {
				v := red.value(r, i)
				if r > 0 {
					v = red.combine(prefix[r-1][i], v)
				}
				prefix[r][i] = v
			}
		}
		total := prefix[p-1]
		check := func(what string, got, want []T) {
			t.Helper()
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%s %s n=%d p=%d: rank %d [%d] = %v, want %v", what, red.name, n, p, me, i, got[i], want[i])
				}
			}
		}

		for root := range p {
			recv := make([]T, n)
			if err := nat.Reduce(comm.Bytes(send), comm.Bytes(recv), red.t, red.op, root); err != nil {
				t.Fatalf("Reduce %s root %d: %v", red.name, root, err)
			}
			if me == root {
				check(fmt.Sprintf("Reduce root %d", root), recv, total)
			}
		}

		recv := make([]T, n)
		if err := nat.Allreduce(comm.Bytes(send), comm.Bytes(recv), red.t, red.op); err != nil {
			t.Fatalf("Allreduce %s: %v", red.name, err)
		}
		check("Allreduce", recv, total)

		inplace := append([]T(nil), send...)
		if err := nat.Allreduce(comm.Bytes(inplace), comm.Bytes(inplace), red.t, red.op); err != nil {
			t.Fatalf("Allreduce in place %s: %v", red.name, err)
		}
		check("Allreduce in place", inplace, total)

		if err := nat.Scan(comm.Bytes(send), comm.Bytes(recv), red.t, red.op); err != nil {
			t.Fatalf("Scan %s: %v", red.name, err)
		}
		check("Scan", recv, prefix[me])

		if err := nat.Exscan(comm.Bytes(send), comm.Bytes(recv), red.t, red.op); err != nil {
			t.Fatalf("Exscan %s: %v", red.name, err)
		}
		if me > 0 {
			check("Exscan", recv, prefix[me-1])
		}

		counts, offset := make([]int, p), 0
		for r := range p {
			counts[r] = n / p
			if r < n%p {
				counts[r]++
			}
			if r < me {
				offset += counts[r]
			}
		}
		block := make([]T, counts[me])
		if err := nat.ReduceScatter(comm.Bytes(send), comm.Bytes(block), counts, red.t, red.op); err != nil {
			t.Fatalf("ReduceScatter %s: %v", red.name, err)
		}
		check("ReduceScatter", block, total[offset:offset+counts[me]])
	}
}

func TestNativeReductions(t *testing.T) {
	c := needWorld(t)
	t.Run("Float64Sum", func(t *testing.T) {
		checkReductions(t, c, reduction[float64]{"Float64 Sum", backend.Float64, backend.OpSum,
			func(r, i int) float64 { return float64((r+1)*(i%13)) + 0.5 },
			func(a, b float64) float64 { return a + b }})
	})
	t.Run("Int32Max", func(t *testing.T) {
		checkReductions(t, c, reduction[int32]{"Int32 Max", backend.Int32, backend.OpMax,
			func(r, i int) int32 { return int32((r*7+i*3)%11 - 5) },
			func(a, b int32) int32 { return max(a, b) }})
	})
	t.Run("Int64Min", func(t *testing.T) {
		checkReductions(t, c, reduction[int]{"Int Min", backend.Int, backend.OpMin,
			func(r, i int) int { return (r*5+i)%9 - 1<<40 },
			func(a, b int) int { return min(a, b) }})
	})
	t.Run("Uint8BXor", func(t *testing.T) {
		checkReductions(t, c, reduction[uint8]{"Uint8 BXor", backend.Uint8, backend.OpBXor,
			func(r, i int) uint8 { return uint8(r*37 + i) },
			func(a, b uint8) uint8 { return a ^ b }})
	})
	t.Run("Uint16LAnd", func(t *testing.T) {
		checkReductions(t, c, reduction[uint16]{"Uint16 LAnd", backend.Uint16, backend.OpLAnd,
			func(r, i int) uint16 { return uint16((r + i) % 3) },
			func(a, b uint16) uint16 {
				if a != 0 && b != 0 {
					return 1
				}
				return 0
			}})
	})
	t.Run("Complex128Prod", func(t *testing.T) {
		checkReductions(t, c, reduction[complex128]{"Complex128 Prod", backend.Complex128, backend.OpProd,
			func(r, i int) complex128 { return complex(float64(r%2+1), float64(i%3)) },
			func(a, b complex128) complex128 { return a * b }})
	})
	t.Run("Unsupported", func(t *testing.T) {
		buf := make([]complex128, 2)
		err := commlink.Native(c).Allreduce(comm.Bytes(buf), comm.Bytes(buf), backend.Complex128, backend.OpMin)
		if !errors.Is(err, backend.ErrUnsupported) {
			t.Errorf("Allreduce Min on complex128: %v, want ErrUnsupported", err)
		}
		f := make([]float32, 2)
		err = commlink.Native(c).Allreduce(comm.Bytes(f), comm.Bytes(f), backend.Float32, backend.OpBAnd)
		if !errors.Is(err, backend.ErrUnsupported) {
			t.Errorf("Allreduce BAnd on float32: %v, want ErrUnsupported", err)
		}
		if err := commlink.Native(c).Reduce(comm.Bytes(f), comm.Bytes(f), backend.Float32, backend.OpSum, c.Size()); !errors.Is(err, backend.ErrInvalidRoot) {
			t.Errorf("Reduce with root Size: %v, want ErrInvalidRoot", err)
		}
	})
}

// elem is the byte that rank r puts at position i of its contribution.
func elem(r, i int) byte { return byte(r*31 + i*7 + 1) }

func contribution(r, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = elem(r, i)
	}
	return b
}

func equalBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d bytes, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s: [%d] = %d, want %d", what, i, got[i], want[i])
		}
	}
}

func TestNativeDataMovement(t *testing.T) {
	c := needWorld(t)
	nat := commlink.Native(c)
	me, p := c.Rank(), c.Size()
	if err := nat.Barrier(); err != nil {
		t.Fatalf("Barrier: %v", err)
	}
	for _, n := range lengths {
		name := func(op string) string { return fmt.Sprintf("%s n=%d p=%d rank %d", op, n, p, me) }
		mine := contribution(me, n)
		all := make([]byte, 0, n*p)
		for r := range p {
			all = append(all, contribution(r, n)...)
		}

		for root := range p {
			buf := make([]byte, n)
			if me == root {
				copy(buf, mine)
			}
			if err := nat.Bcast(buf, root); err != nil {
				t.Fatalf("%s: %v", name("Bcast"), err)
			}
			equalBytes(t, name(fmt.Sprintf("Bcast root %d", root)), buf, contribution(root, n))
		}

		root := n % p
		var recv []byte
		if me == root {
			recv = make([]byte, n*p)
		}
		if err := nat.Gather(mine, recv, root); err != nil {
			t.Fatalf("%s: %v", name("Gather"), err)
		}
		if me == root {
			equalBytes(t, name("Gather"), recv, all)
		}

		block := make([]byte, n)
		var send []byte
		if me == root {
			send = all
		}
		if err := nat.Scatter(send, block, root); err != nil {
			t.Fatalf("%s: %v", name("Scatter"), err)
		}
		equalBytes(t, name("Scatter"), block, mine)

		recv = make([]byte, n*p)
		if err := nat.Allgather(mine, recv); err != nil {
			t.Fatalf("%s: %v", name("Allgather"), err)
		}
		equalBytes(t, name("Allgather"), recv, all)

		// Alltoall: block j of rank i's send is contribution(i*p+j, n).
		send = make([]byte, 0, n*p)
		want := make([]byte, 0, n*p)
		for j := range p {
			send = append(send, contribution(me*p+j, n)...)
			want = append(want, contribution(j*p+me, n)...)
		}
		recv = make([]byte, n*p)
		if err := nat.Alltoall(send, recv); err != nil {
			t.Fatalf("%s: %v", name("Alltoall"), err)
		}
		equalBytes(t, name("Alltoall"), recv, want)

		// v-forms: rank r contributes (r+1)*n bytes, laid out in reverse rank order with a gap
		// of 3 bytes before each block.
		counts, displs, length := make([]int, p), make([]int, p), 0
		for r := p - 1; r >= 0; r-- {
			counts[r] = (r + 1) * n
			displs[r] = length + 3
			length += counts[r] + 3
		}
		layout := make([]byte, length)
		for r := range p {
			copy(layout[displs[r]:], contribution(r, counts[r]))
		}
		vmine := contribution(me, counts[me])

		recv = nil
		if me == root {
			recv = make([]byte, length)
		}
		if err := nat.Gatherv(vmine, recv, counts, displs, root); err != nil {
			t.Fatalf("%s: %v", name("Gatherv"), err)
		}
		if me == root {
			equalBytes(t, name("Gatherv"), recv, layout)
		}

		vblock := make([]byte, counts[me])
		send = nil
		if me == root {
			send = layout
		}
		if err := nat.Scatterv(send, counts, displs, vblock, root); err != nil {
			t.Fatalf("%s: %v", name("Scatterv"), err)
		}
		equalBytes(t, name("Scatterv"), vblock, vmine)

		recv = make([]byte, length)
		if err := nat.Allgatherv(vmine, recv, counts, displs); err != nil {
			t.Fatalf("%s: %v", name("Allgatherv"), err)
		}
		equalBytes(t, name("Allgatherv"), recv, layout)

		// Alltoallv: rank i sends (i+j+1)*n/2 bytes, contribution(i*p+j, ...), to rank j.
		size := func(i, j int) int { return (i + j + 1) * n / 2 }
		sc, sd, rc, rd := make([]int, p), make([]int, p), make([]int, p), make([]int, p)
		send, want = nil, nil
		for j := range p {
			sc[j], sd[j] = size(me, j), len(send)
			send = append(send, contribution(me*p+j, sc[j])...)
			rc[j], rd[j] = size(j, me), len(want)
			want = append(want, contribution(j*p+me, rc[j])...)
		}
		recv = make([]byte, len(want))
		if err := nat.Alltoallv(send, sc, sd, recv, rc, rd); err != nil {
			t.Fatalf("%s: %v", name("Alltoallv"), err)
		}
		equalBytes(t, name("Alltoallv"), recv, want)
	}

	// Every rank passes a short buffer, so every rank refuses before calling MPI.
	if err := nat.Allgather(make([]byte, 4), make([]byte, 4*p-1)); !errors.Is(err, backend.ErrSizeMismatch) {
		t.Errorf("Allgather into a short buffer: %v, want ErrSizeMismatch", err)
	}
}
