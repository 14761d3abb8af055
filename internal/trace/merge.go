package trace

import (
	"errors"
	"fmt"
	"sort"
)

// Trace is the merged trace of a job: every rank's operations on one clock, rank 0's (in
// nanoseconds from the earliest Begin), and every message's two ends paired.
type Trace struct {
	Job   string
	Size  int     // ranks in the job
	Ranks []*Rank // by world rank; nil where a rank's part is missing
	Flows []Flow
	// Unpaired counts message ends whose other end is not in the trace (a rank's part is
	// missing, a sender did not trace, or a message was never received).
	Unpaired int
	// Backward counts messages left out because their receive still ended before their send
	// began after the clocks were aligned (see Merge).
	Backward int
	Notes    []string // what the merge had to assume or correct, for people
}

// Rank is one rank's part of a Trace.
type Rank struct {
	Rank       int
	Host       string
	Begin, End int64 // when recording started (Init) and stopped (Finalize)
	// Offset is what was taken off the rank's wall clock to put it on rank 0's, at Begin: the
	// estimate (RTT its round trip) for a rank on another host, 0 for one that shares rank 0's
	// kernel (SharedClock), whose wall clock is rank 0's. Estimate is the estimate in both cases.
	Offset, Estimate, RTT int64
	SharedClock           bool
	// Shift moved the whole rank later by this much so that no message arrives before it
	// was sent (an error of the estimate larger than the message's latency).
	Shift   int64
	Dropped int64 // events the rank's recorder did not keep (its bound)
	Lanes   int   // tracks needed so that operations nest (more than one: concurrent goroutines)
	Slices  []Slice
}

// Slice is one operation on a rank's timeline.
type Slice struct {
	Event            // times on the trace's clock
	Name, Alg string // collectives: the call and its algorithm ("" when unknown)
	Lane      int    // 0 .. Rank.Lanes-1; a slice lies within the enclosing one on its lane
	FlowOut   int    // index in Trace.Flows of the message it sent, or -1
	FlowIn    int    // index in Trace.Flows of the message it received, or -1
}

// Title is the slice's name as timelines show it: the collective's name, or the operation.
func (s *Slice) Title() string {
	if s.Op == OpCollective {
		return s.Name
	}
	return s.Op.String()
}

// Flow is one message: sent by Ranks[From].Slices[FromSlice], which started at Send, and
// received by Ranks[To].Slices[ToSlice], which ended at Recv > Send.
type Flow struct {
	From, To           int
	FromSlice, ToSlice int
	Send, Recv         int64
}

// MinLatency is the least time Merge lets a message take from the start of its send to the
// end of its receive: where aligned clocks say less, the receiving rank is moved later.
const MinLatency = 10

// Merge puts the parts of one job on one clock and pairs the two ends of every message.
//
// Clocks: rank 0's wall clock is the reference. A rank whose kernel is rank 0's (same boot id)
// reads the same wall clock and is taken as it is; the others' offsets, estimated by ping-pong
// at Init and at Finalize, are taken off, interpolated linearly between the two (drift). The
// estimates are good to half their round trip, which may exceed a message's latency, so Merge
// then checks every message: where its receive would end less than MinLatency after its send
// began, the receiving rank is moved later as a whole (Rank.Shift), as little as makes every
// message go forward (a longest-path relaxation over the messages, rank 0 fixed). A message
// that still goes backwards (which real clocks cannot produce) is left out and counted.
func Merge(parts []*Part) (*Trace, error) {
	if len(parts) == 0 {
		return nil, errors.New("trace: no parts to merge")
	}
	t := &Trace{Job: parts[0].Job, Size: parts[0].Size}
	byRank := make([]*Part, t.Size)
	for _, p := range parts {
		if p.Job != t.Job || p.Size != t.Size {
			return nil, fmt.Errorf("trace: parts of different jobs: rank %d of job %q (%d ranks) and rank %d of job %q (%d ranks)",
				parts[0].Rank, t.Job, t.Size, p.Rank, p.Job, p.Size)
		}
		if byRank[p.Rank] != nil {
			return nil, fmt.Errorf("trace: two parts for rank %d", p.Rank)
		}
		byRank[p.Rank] = p
	}
	var missing []int
	for r, p := range byRank {
		if p == nil {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("no part for ranks %v: their operations and the messages to and from them are missing", missing))
	}
	t.Ranks = make([]*Rank, t.Size)
	for r, p := range byRank {
		if p != nil {
			t.Ranks[r] = t.place(p, byRank[0])
		}
	}
	t.pair()
	t.forward()
	t.normalize()
	for _, rk := range t.Ranks {
		if rk != nil {
			rk.Lanes = assignLanes(rk.Slices)
		}
	}
	return t, nil
}

// place converts p's events to slices on rank 0's clock (before any shift), sorted by start.
func (t *Trace) place(p, zero *Part) *Rank {
	rk := &Rank{Rank: p.Rank, Host: p.Host, Dropped: p.Dropped}
	if p.Dropped > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("rank %d kept its first %d events and dropped %d more", p.Rank, len(p.Events), p.Dropped))
	}
	offset := func(int64) int64 { return 0 }
	var samples []Clock
	for _, c := range p.Clocks {
		if c.RTT > 0 {
			samples = append(samples, c)
		}
	}
	if len(samples) > 0 {
		rk.Estimate, rk.RTT = samples[0].Offset, samples[0].RTT
	}
	switch {
	case p.Rank == 0:
	case zero != nil && p.Boot != "" && p.Boot == zero.Boot:
		rk.SharedClock = true
	case len(samples) == 0:
		t.Notes = append(t.Notes, fmt.Sprintf("rank %d has no clock estimate: its wall clock is taken as rank 0's", p.Rank))
	case len(samples) == 1 || samples[len(samples)-1].At == samples[0].At:
		c := samples[0]
		offset = func(int64) int64 { return c.Offset }
	default:
		a, b := samples[0], samples[len(samples)-1]
		offset = func(x int64) int64 {
			return a.Offset + int64(float64(b.Offset-a.Offset)*float64(x-a.At)/float64(b.At-a.At))
		}
	}
	rk.Offset = offset(0)
	at := func(x int64) int64 { return p.Wall0 + x - offset(x) }
	rk.Begin, rk.End = at(0), at(p.End)
	rk.Slices = make([]Slice, len(p.Events))
	for i, e := range p.Events {
		s := Slice{Event: e, Name: p.Names[e.Name], Alg: p.Names[e.Alg], FlowOut: -1, FlowIn: -1}
		s.Start, s.End = at(e.Start), at(e.End)
		if e.WaitEnd > 0 {
			s.WaitStart, s.WaitEnd = at(e.WaitStart), at(e.WaitEnd)
		}
		rk.Slices[i] = s
	}
	sort.SliceStable(rk.Slices, func(i, j int) bool {
		a, b := &rk.Slices[i], &rk.Slices[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.End > b.End
	})
	return rk
}

// pair matches every received message with its send.
func (t *Trace) pair() {
	type key struct {
		src int32
		id  uint64
	}
	type end struct{ rank, slice int }
	sends := map[key]end{}
	for _, rk := range t.Ranks {
		if rk == nil {
			continue
		}
		for i := range rk.Slices {
			if id := rk.Slices[i].Out; id != 0 {
				sends[key{int32(rk.Rank), id}] = end{rk.Rank, i}
			}
		}
	}
	for _, rk := range t.Ranks {
		if rk == nil {
			continue
		}
		for i := range rk.Slices {
			s := &rk.Slices[i]
			if s.In == 0 {
				continue
			}
			k := key{s.Src, s.In}
			from, ok := sends[k]
			if !ok {
				t.Unpaired++
				continue
			}
			delete(sends, k)
			src := &t.Ranks[from.rank].Slices[from.slice]
			src.FlowOut, s.FlowIn = len(t.Flows), len(t.Flows)
			t.Flows = append(t.Flows, Flow{From: from.rank, FromSlice: from.slice, To: rk.Rank, ToSlice: i, Send: src.Start, Recv: s.End})
		}
	}
	t.Unpaired += len(sends)
}

// forward moves ranks later until every message's receive ends at least MinLatency after its
// send began, and leaves out the messages for which that cannot be done.
func (t *Trace) forward() {
	shift := make([]int64, t.Size)
	for pass := 0; pass <= t.Size; pass++ {
		changed := false
		for _, f := range t.Flows {
			if f.From == f.To {
				continue
			}
			if need := f.Send + shift[f.From] + MinLatency - f.Recv; shift[f.To] < need {
				shift[f.To] = need
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	ref := 0
	for ref < t.Size && t.Ranks[ref] == nil {
		ref++
	}
	var moved []string
	for r, rk := range t.Ranks {
		if rk == nil {
			continue
		}
		rk.Shift = shift[r] - shift[ref]
		if rk.Shift != 0 {
			moved = append(moved, fmt.Sprintf("rank %d by %.3f µs", r, float64(rk.Shift)/1e3))
			rk.Begin += rk.Shift
			rk.End += rk.Shift
			for i := range rk.Slices {
				s := &rk.Slices[i]
				s.Start += rk.Shift
				s.End += rk.Shift
				if s.WaitEnd > 0 {
					s.WaitStart += rk.Shift
					s.WaitEnd += rk.Shift
				}
			}
		}
	}
	if len(moved) > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("clock estimates corrected so that every message goes forward: moved %v later", moved))
	}
	kept := t.Flows[:0]
	for _, f := range t.Flows {
		from, to := &t.Ranks[f.From].Slices[f.FromSlice], &t.Ranks[f.To].Slices[f.ToSlice]
		f.Send, f.Recv = from.Start, to.End
		if f.Recv-f.Send < MinLatency {
			t.Backward++
			from.FlowOut, to.FlowIn = -1, -1
			continue
		}
		from.FlowOut, to.FlowIn = len(kept), len(kept)
		kept = append(kept, f)
	}
	t.Flows = kept
	if t.Backward > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("%d messages left out: their receive ended before their send began, whatever the clock correction", t.Backward))
	}
}

// normalize makes the earliest Begin time 0.
func (t *Trace) normalize() {
	var zero int64
	first := true
	for _, rk := range t.Ranks {
		if rk != nil && (first || rk.Begin < zero) {
			zero, first = rk.Begin, false
		}
	}
	for _, rk := range t.Ranks {
		if rk == nil {
			continue
		}
		rk.Begin -= zero
		rk.End -= zero
		for i := range rk.Slices {
			s := &rk.Slices[i]
			s.Start -= zero
			s.End -= zero
			if s.WaitEnd > 0 {
				s.WaitStart -= zero
				s.WaitEnd -= zero
			}
		}
	}
	for i := range t.Flows {
		t.Flows[i].Send -= zero
		t.Flows[i].Recv -= zero
	}
}

// assignLanes gives each slice (sorted by start, longest first among equal starts) the first
// lane on which it lies within the innermost open slice, or starts after every slice there has
// ended, and returns the number of lanes. One goroutine's operations nest, so they share a
// lane; operations of goroutines that overlap go to further lanes.
func assignLanes(slices []Slice) int {
	var stacks [][]*Slice
	for i := range slices {
		s := &slices[i]
		lane := 0
		for ; lane < len(stacks); lane++ {
			st := stacks[lane]
			for len(st) > 0 && st[len(st)-1].End <= s.Start {
				st = st[:len(st)-1]
			}
			stacks[lane] = st
			if len(st) == 0 || s.End <= st[len(st)-1].End {
				break
			}
		}
		if lane == len(stacks) {
			stacks = append(stacks, nil)
		}
		stacks[lane] = append(stacks[lane], s)
		s.Lane = lane
	}
	return max(len(stacks), 1)
}
