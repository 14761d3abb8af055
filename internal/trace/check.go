package trace

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Summary is what CheckChrome found in a trace file.
type Summary struct {
	Ranks  []int                  // the pids named "rank N" (process_name), ascending
	Slices map[int]map[string]int // by pid: how many complete events of each name
	Lanes  map[int]int            // by pid: how many tids
	Flows  int                    // messages: flows with both ends
}

// chromeEvent is one event of a Chrome trace file, as CheckChrome reads it.
type chromeEvent struct {
	Ph   string         `json:"ph"`
	TS   *float64       `json:"ts"`
	Dur  *float64       `json:"dur"`
	PID  *int           `json:"pid"`
	TID  *int           `json:"tid"`
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	ID   *uint64        `json:"id"`
	BP   string         `json:"bp"`
	Args map[string]any `json:"args"`
}

// CheckChrome reads a Chrome trace-event file and checks what a viewer needs of the files
// WriteChrome writes: it is one JSON object whose first key is "traceEvents" (Perfetto's
// reader wants it first); every process is named "rank N" with N its pid; the complete events
// of each thread nest (a viewer drops slices that overlap without nesting); every flow id has
// one start ("s") and one end ("f", "bp":"e") with the same name and category, each strictly
// inside a slice of its own thread, and the slice the end lies in starts after the one the
// start lies in ends (so the arrow Perfetto draws, from the end of one to the start of the
// other, points forward in time).
func CheckChrome(r io.Reader) (*Summary, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(`{"traceEvents":`)) {
		return nil, fmt.Errorf(`the file does not start with {"traceEvents":`)
	}
	var doc struct {
		TraceEvents []chromeEvent `json:"traceEvents"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	sum := &Summary{Slices: map[int]map[string]int{}, Lanes: map[int]int{}}
	type thread struct{ pid, tid int }
	type span struct{ start, end float64 }
	slices := map[thread][]span{}
	named := map[int]bool{}
	type end struct {
		ev     chromeEvent
		thread thread
	}
	starts, ends := map[uint64][]end{}, map[uint64][]end{}
	for i, e := range doc.TraceEvents {
		if e.PID == nil {
			return nil, fmt.Errorf("event %d (%q) has no pid", i, e.Name)
		}
		pid := *e.PID
		switch e.Ph {
		case "M":
			if e.Name == "process_name" {
				if want := fmt.Sprintf("rank %d", pid); e.Args["name"] != want {
					return nil, fmt.Errorf("process %d is named %v, want %q", pid, e.Args["name"], want)
				}
				named[pid] = true
			}
		case "X":
			if e.TS == nil || e.Dur == nil || e.TID == nil || *e.Dur < 0 {
				return nil, fmt.Errorf("event %d (%q): a complete event needs ts, dur >= 0, pid and tid", i, e.Name)
			}
			th := thread{pid, *e.TID}
			slices[th] = append(slices[th], span{*e.TS, *e.TS + *e.Dur})
			if sum.Slices[pid] == nil {
				sum.Slices[pid] = map[string]int{}
			}
			sum.Slices[pid][e.Name]++
		case "s", "f":
			if e.TS == nil || e.TID == nil || e.ID == nil {
				return nil, fmt.Errorf("event %d: a flow event needs ts, pid, tid and id", i)
			}
			th := thread{pid, *e.TID}
			if e.Ph == "s" {
				starts[*e.ID] = append(starts[*e.ID], end{e, th})
			} else {
				if e.BP != "e" {
					return nil, fmt.Errorf("flow %d: its end has no \"bp\":\"e\"", *e.ID)
				}
				ends[*e.ID] = append(ends[*e.ID], end{e, th})
			}
		default:
			return nil, fmt.Errorf("event %d: unexpected phase %q", i, e.Ph)
		}
	}
	for th, ss := range slices {
		if !named[th.pid] {
			return nil, fmt.Errorf("process %d has no process_name", th.pid)
		}
		sort.SliceStable(ss, func(i, j int) bool {
			if ss[i].start != ss[j].start {
				return ss[i].start < ss[j].start
			}
			return ss[i].end > ss[j].end
		})
		var stack []span
		for _, s := range ss {
			for len(stack) > 0 && stack[len(stack)-1].end <= s.start {
				stack = stack[:len(stack)-1]
			}
			if len(stack) > 0 && s.end > stack[len(stack)-1].end {
				top := stack[len(stack)-1]
				return nil, fmt.Errorf("rank %d lane %d: slice %.3f..%.3f overlaps %.3f..%.3f without nesting", th.pid, th.tid, s.start, s.end, top.start, top.end)
			}
			stack = append(stack, s)
		}
		sum.Lanes[th.pid]++
	}
	// innermost returns the innermost slice of th strictly around ts.
	innermost := func(th thread, ts float64) (span, bool) {
		var best span
		found := false
		for _, s := range slices[th] {
			if s.start < ts && ts < s.end && (!found || s.end-s.start <= best.end-best.start) {
				best, found = s, true
			}
		}
		return best, found
	}
	for id, ss := range starts {
		es := ends[id]
		if len(ss) != 1 || len(es) != 1 {
			return nil, fmt.Errorf("flow %d has %d starts and %d ends, want one of each", id, len(ss), len(es))
		}
		s, f := ss[0], es[0]
		if s.ev.Name != f.ev.Name || s.ev.Cat != f.ev.Cat {
			return nil, fmt.Errorf("flow %d: its ends differ in name or category", id)
		}
		from, ok1 := innermost(s.thread, *s.ev.TS)
		to, ok2 := innermost(f.thread, *f.ev.TS)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("flow %d: an end lies in no slice of its thread", id)
		}
		if !(*f.ev.TS > *s.ev.TS) || !(to.start > from.end) {
			return nil, fmt.Errorf("flow %d from rank %d at %.3f µs to rank %d at %.3f µs points backwards", id, s.thread.pid, *s.ev.TS, f.thread.pid, *f.ev.TS)
		}
		sum.Flows++
	}
	for id := range ends {
		if len(starts[id]) == 0 {
			return nil, fmt.Errorf("flow %d has an end but no start", id)
		}
	}
	for pid := range named {
		sum.Ranks = append(sum.Ranks, pid)
	}
	sort.Ints(sum.Ranks)
	return sum, nil
}

// String summarizes s in one line.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d ranks, %d messages", len(s.Ranks), s.Flows)
	for _, r := range s.Ranks {
		names := make([]string, 0, len(s.Slices[r]))
		for n, k := range s.Slices[r] {
			if n != "wait" && !strings.HasPrefix(n, "to ") && !strings.HasPrefix(n, "from ") {
				names = append(names, fmt.Sprintf("%s×%d", n, k))
			}
		}
		sort.Strings(names)
		fmt.Fprintf(&b, "; rank %d: %s", r, strings.Join(names, " "))
	}
	return b.String()
}
