package trace

import (
	"strings"
	"testing"
)

// part returns a part of a job of size ranks with the given wall-clock zero, boot id and
// events (Names: "", "Allreduce", "ring").
func part(rank, size int, wall0 int64, boot string, events ...Event) *Part {
	for i := range events {
		e := &events[i]
		if e.Op != OpCollective {
			if e.Out == 0 && e.Dest == 0 {
				e.Dest = -1
			}
			if e.In == 0 && e.Src == 0 {
				e.Src = -1
			}
		}
	}
	return &Part{Job: "j", Rank: rank, Size: size, Wall0: wall0, Boot: boot, End: 10_000, Names: []string{"", "Allreduce", "ring"}, Events: events}
}

func send(start, end int64, dest int32, id uint64) Event {
	return Event{Op: OpSend, Start: start, End: end, Dest: dest, Out: id, Src: -1}
}

func recv(start, end int64, src int32, id uint64) Event {
	return Event{Op: OpRecv, Start: start, End: end, Src: src, In: id, Dest: -1}
}

func mustMerge(t *testing.T, parts ...*Part) *Trace {
	t.Helper()
	tr, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestMergeSharedClock: ranks on rank 0's kernel keep their wall clocks, whatever their
// estimates say; times are from the earliest Begin.
func TestMergeSharedClock(t *testing.T) {
	p1 := part(1, 2, 2000, "k", recv(50, 300, 0, 5))
	p1.Clocks = []Clock{{At: 10, Offset: 400, RTT: 900}} // a poor estimate: not applied
	tr := mustMerge(t, part(0, 2, 1000, "k", send(100, 200, 1, 5)), p1)
	if len(tr.Flows) != 1 || tr.Unpaired != 0 || tr.Backward != 0 {
		t.Fatalf("flows %v, unpaired %d, backward %d", tr.Flows, tr.Unpaired, tr.Backward)
	}
	f := tr.Flows[0]
	if f.Send != 100 || f.Recv != 1300 || f.From != 0 || f.To != 1 {
		t.Errorf("flow %+v, want from 0 at 100 to 1 at 1300", f)
	}
	if r1 := tr.Ranks[1]; !r1.SharedClock || r1.Offset != 0 || r1.Estimate != 400 || r1.Shift != 0 || r1.Begin != 1000 {
		t.Errorf("rank 1: %+v", r1)
	}
	s := tr.Ranks[0].Slices[0]
	if s.FlowOut != 0 || s.FlowIn != -1 || tr.Ranks[1].Slices[0].FlowIn != 0 {
		t.Errorf("slices do not point at their flow: %+v", s)
	}
}

// TestMergeOffsetAndDrift: another kernel's estimates are taken off, interpolated between the
// first and the last.
func TestMergeOffsetAndDrift(t *testing.T) {
	p1 := part(1, 2, 1000, "other", recv(0, 1000, 0, 5), recv(1000, 2000, 0, 6))
	p1.Clocks = []Clock{{At: 0, Offset: -500, RTT: 10}, {At: 2000, Offset: -300, RTT: 10}}
	tr := mustMerge(t, part(0, 2, 1000, "k", send(100, 200, 1, 5), send(1100, 1200, 1, 6)), p1)
	// Rank 1 ends its receives at wall 2000 and 3000; minus offsets -400 and -300 (interpolated).
	if r1 := tr.Ranks[1]; r1.Offset != -500 || r1.SharedClock || r1.RTT != 10 {
		t.Errorf("rank 1: %+v", r1)
	}
	got := []int64{tr.Flows[0].Recv - tr.Flows[0].Send, tr.Flows[1].Recv - tr.Flows[1].Send}
	if want := []int64{(2000 + 400) - 1100, (3000 + 300) - 2100}; got[0] != want[0] || got[1] != want[1] {
		t.Errorf("latencies %v, want %v", got, want)
	}
}

// TestMergeMovesReceiversForward: where an estimate makes a receive end before its send
// began, the receiving rank is moved later, by as little as needed.
func TestMergeMovesReceiversForward(t *testing.T) {
	p1 := part(1, 3, 1000, "b", recv(0, 100, 0, 5), send(200, 300, 2, 9))
	p1.Clocks = []Clock{{At: 0, Offset: 200, RTT: 30}}                   // rank 1 ends its receive at 1100-200 = 900
	p2 := part(2, 3, 1000, "c", recv(0, 1150, 1, 9))                     // ends at 2150: after rank 1's send, even moved
	tr := mustMerge(t, part(0, 3, 1000, "a", send(0, 50, 1, 5)), p1, p2) // sends at 1000
	if tr.Backward != 0 || len(tr.Flows) != 2 {
		t.Fatalf("backward %d, flows %v", tr.Backward, tr.Flows)
	}
	if r1 := tr.Ranks[1]; r1.Shift != 1000-900+MinLatency {
		t.Errorf("rank 1 moved by %d, want %d", r1.Shift, 1000-900+MinLatency)
	}
	if r2 := tr.Ranks[2]; r2.Shift != 0 {
		t.Errorf("rank 2 moved by %d, want 0", r2.Shift)
	}
	for _, f := range tr.Flows {
		if f.Recv-f.Send < MinLatency {
			t.Errorf("flow %+v still goes backwards", f)
		}
	}
	if len(tr.Notes) == 0 || !strings.Contains(strings.Join(tr.Notes, ";"), "rank 1 by") {
		t.Errorf("notes %q do not say rank 1 moved", tr.Notes)
	}
}

// TestMergeLeavesOutImpossibleMessages: two messages that no clock can make both go forward
// (each arrives before the other was sent): at least one is left out, and counted.
func TestMergeLeavesOutImpossibleMessages(t *testing.T) {
	tr := mustMerge(t,
		part(0, 2, 0, "k", send(100, 110, 1, 1), recv(120, 150, 1, 2)),
		part(1, 2, 0, "k", recv(10, 50, 0, 1), send(200, 210, 0, 2)))
	if tr.Backward == 0 || tr.Backward+len(tr.Flows) != 2 {
		t.Fatalf("backward %d, kept %d, want at least 1 left out of 2", tr.Backward, len(tr.Flows))
	}
	for _, f := range tr.Flows {
		if f.Recv-f.Send < MinLatency {
			t.Errorf("kept flow %+v goes backwards", f)
		}
	}
	for _, rk := range tr.Ranks {
		for _, s := range rk.Slices {
			if s.FlowOut >= len(tr.Flows) || s.FlowIn >= len(tr.Flows) {
				t.Errorf("slice points past the flows: %+v", s)
			}
		}
	}
}

// TestMergeLanes: operations that nest share a lane; one that overlaps without nesting (another
// goroutine) goes to another.
func TestMergeLanes(t *testing.T) {
	coll := Event{Op: OpCollective, Start: 0, End: 100, Name: 1, Alg: 2, Dest: -1, Src: -1}
	tr := mustMerge(t, part(0, 1, 0, "k",
		coll,
		Event{Op: OpSendrecv, Start: 10, End: 40, Dest: -1, Src: -1},
		Event{Op: OpSendrecv, Start: 50, End: 90, Dest: -1, Src: -1},
		Event{Op: OpRecv, Start: 80, End: 200, Dest: -1, Src: -1}, // another goroutine
		Event{Op: OpSend, Start: 150, End: 160, Dest: -1, Src: -1}))
	rk := tr.Ranks[0]
	lanes := map[int64]int{}
	for _, s := range rk.Slices {
		lanes[s.Start] = s.Lane
	}
	if rk.Lanes != 2 || lanes[0] != 0 || lanes[10] != 0 || lanes[50] != 0 || lanes[80] != 1 || lanes[150] != 0 {
		t.Errorf("lanes %v (%d in all)", lanes, rk.Lanes)
	}
	if s := rk.Slices[0]; s.Title() != "Allreduce" || s.Alg != "ring" {
		t.Errorf("collective slice %q (%q)", s.Title(), s.Alg)
	}
}

func TestMergeMissingRankAndUnpaired(t *testing.T) {
	tr := mustMerge(t,
		part(0, 3, 0, "k", send(0, 10, 1, 1), recv(20, 30, 2, 3)),
		part(2, 3, 0, "k", send(0, 10, 0, 3), recv(40, 50, 1, 4)))
	if tr.Ranks[1] != nil || len(tr.Flows) != 1 || tr.Unpaired != 2 {
		t.Errorf("rank 1 %v, flows %d, unpaired %d; want nil, 1, 2", tr.Ranks[1], len(tr.Flows), tr.Unpaired)
	}
	if len(tr.Notes) == 0 || !strings.Contains(tr.Notes[0], "[1]") {
		t.Errorf("notes %q do not name rank 1", tr.Notes)
	}
}

func TestMergeRejects(t *testing.T) {
	other := part(1, 2, 0, "k")
	other.Job = "other"
	for _, tc := range []struct {
		name  string
		parts []*Part
	}{
		{"nothing", nil},
		{"two jobs", []*Part{part(0, 2, 0, "k"), other}},
		{"two sizes", []*Part{part(0, 2, 0, "k"), part(1, 3, 0, "k")}},
		{"a rank twice", []*Part{part(0, 2, 0, "k"), part(0, 2, 0, "k")}},
	} {
		if _, err := Merge(tc.parts); err == nil {
			t.Errorf("%s: merged", tc.name)
		}
	}
}
