package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/gompi/gompi/internal/backend"
)

// createTag is the tag communicator creation uses on the parent's collective context. The
// collectives never use it, so creation and collective traffic cannot match each other.
const createTag = backend.MaxTag

// Split implements backend.Backend (MPI_Comm_split).
func (c *Comm) Split(ctx context.Context, color, key int) (backend.Backend, error) {
	return c.create(ctx, "Split", color, key, true)
}

// Dup implements backend.Backend (MPI_Comm_dup).
func (c *Comm) Dup(ctx context.Context) (backend.Backend, error) {
	return c.create(ctx, "Dup", 0, c.rank, false)
}

// create agrees on a context id with every rank of c and builds the new communicator.
//
// Context ids are per rank: a new communicator needs an id that none of its members uses yet.
// Each round, every rank proposes its lowest free id; rank 0 takes the maximum and announces it;
// each rank reserves it if it is still free (another goroutine may have taken it meanwhile for
// another communicator) and rank 0 announces whether all could. If not, all try again above it.
// All members of all colors share the id: they are disjoint, so ids never meet on one rank.
// Traffic is linear through rank 0 on c's collective context: creation is rare and small.
func (c *Comm) create(ctx context.Context, op string, color, key int, split bool) (backend.Backend, error) {
	if err := c.check(op, 0, 0, false); err != nil {
		return nil, err
	}
	e := c.e
	s := c.shadow
	var floor uint32 = 2
	var records []int64 // rank 0: color, key per rank of c
	var id uint32
	for {
		e.mu.Lock()
		cand := e.lowestFree(floor)
		e.mu.Unlock()
		all, err := s.gather(ctx, op, []int64{int64(color), int64(key), int64(cand)})
		if err != nil {
			return nil, err
		}
		var agreed int64
		if c.rank == 0 {
			records = all
			for i := 0; i < len(all); i += 3 {
				agreed = max(agreed, all[i+2])
			}
		}
		if agreed, err = s.bcast(ctx, op, agreed); err != nil {
			return nil, err
		}
		id = uint32(agreed)
		e.mu.Lock()
		ok := !e.usedCtx[id]
		if ok {
			e.usedCtx[id] = true
		}
		e.mu.Unlock()
		flag := int64(0)
		if ok {
			flag = 1
		}
		oks, err := s.gather(ctx, op, []int64{flag})
		if err != nil {
			return nil, err
		}
		var allOK int64 = 1
		for _, v := range oks {
			allOK &= v
		}
		if allOK, err = s.bcast(ctx, op, allOK); err != nil {
			return nil, err
		}
		if allOK == 1 {
			break
		}
		if ok {
			e.mu.Lock()
			delete(e.usedCtx, id)
			e.mu.Unlock()
		}
		floor = id + 2
	}

	if !split {
		return newComm(e, id, c.group), nil
	}
	members, err := c.splitMembers(ctx, records, color)
	if err != nil || members == nil {
		return nil, err
	}
	group := make([]int, len(members))
	for i, m := range members {
		group[i] = c.group[m]
	}
	return newComm(e, id, group), nil
}

// splitMembers: rank 0 groups the ranks by color, orders each group by (key, rank), and sends
// every rank the list of its group's members (ranks of c); nil for Undefined.
func (c *Comm) splitMembers(ctx context.Context, records []int64, color int) ([]int64, error) {
	s := c.shadow
	if c.rank != 0 {
		buf, _, err := s.RecvAlloc(ctx, 0, createTag)
		if err != nil || color == backend.Undefined {
			return nil, err
		}
		return decodeInts(buf), nil
	}
	byColor := map[int64][]int64{}
	for r := 0; r < len(records)/3; r++ {
		if col := records[3*r]; col != backend.Undefined {
			byColor[col] = append(byColor[col], int64(r))
		}
	}
	var mine []int64
	for col, ms := range byColor {
		sort.SliceStable(ms, func(i, j int) bool { return records[3*ms[i]+1] < records[3*ms[j]+1] })
		if col == int64(color) {
			mine = ms
		}
	}
	for r := 1; r < len(records)/3; r++ {
		var ms []int64
		if col := records[3*r]; col != backend.Undefined {
			ms = byColor[col]
		}
		if err := s.Send(ctx, encodeInts(ms), r, createTag); err != nil {
			return nil, err
		}
	}
	if color == backend.Undefined {
		return nil, nil
	}
	return mine, nil
}

// gather collects vals (the same length on every rank) at rank 0, in rank order.
func (c *Comm) gather(ctx context.Context, op string, vals []int64) ([]int64, error) {
	if c.rank != 0 {
		return nil, c.Send(ctx, encodeInts(vals), 0, createTag)
	}
	all := make([]int64, 0, len(vals)*len(c.group))
	all = append(all, vals...)
	for r := 1; r < len(c.group); r++ {
		buf, _, err := c.RecvAlloc(ctx, r, createTag)
		if err != nil {
			return nil, err
		}
		got := decodeInts(buf)
		if len(got) != len(vals) {
			return nil, backend.Errorf(op, backend.FromPeer, r, createTag, backend.ErrSizeMismatch,
				"rank %d sent %d values for communicator creation, want %d (ranks called different collectives?)", r, len(got), len(vals))
		}
		all = append(all, got...)
	}
	return all, nil
}

// bcast sends v from rank 0 to every rank.
func (c *Comm) bcast(ctx context.Context, op string, v int64) (int64, error) {
	if c.rank == 0 {
		for r := 1; r < len(c.group); r++ {
			if err := c.Send(ctx, encodeInts([]int64{v}), r, createTag); err != nil {
				return 0, err
			}
		}
		return v, nil
	}
	buf, _, err := c.RecvAlloc(ctx, 0, createTag)
	if err != nil {
		return 0, err
	}
	got := decodeInts(buf)
	if len(got) != 1 {
		return 0, backend.Errorf(op, backend.FromPeer, 0, createTag, backend.ErrSizeMismatch, "%s", fmt.Sprintf("got %d values from rank 0, want 1", len(got)))
	}
	return got[0], nil
}

// lowestFree returns the lowest even context id >= floor that this rank does not use.
// Caller holds e.mu.
func (e *Engine) lowestFree(floor uint32) uint32 {
	id := floor &^ 1
	for e.usedCtx[id] {
		id += 2
	}
	return id
}

func encodeInts(v []int64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return b
}

func decodeInts(b []byte) []int64 {
	v := make([]int64, len(b)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}
