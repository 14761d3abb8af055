package trace

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marks are the small slices the Chrome output draws inside an operation so that viewers bind
// each message's arrow to the right place: Perfetto draws an arrow from the end of the slice
// its start event falls in to the start of the slice its end event falls in, so the send side
// gets a mark of markLen ns just after the operation starts and the receive side one just
// before it ends (where the message has arrived), each flow event strictly inside its mark.
const markLen = 2

// Mark returns the send mark (a, b) and the receive mark (c, d) of s, and whether s is long
// enough to hold both apart (else the flow events bind to s itself).
func (s *Slice) marks() (a, b, c, d int64, ok bool) {
	if s.End-s.Start < 4*markLen {
		return 0, 0, 0, 0, false
	}
	return s.Start + 1, s.Start + 1 + markLen, s.End - 1 - markLen, s.End - 1, true
}

// WaitSpan returns the part of s shown as waiting: from its first block to the end of its last,
// kept clear of the marks; ok is false when s never blocked or nothing is left to show.
func (s *Slice) WaitSpan() (from, to int64, ok bool) {
	if s.WaitEnd <= 0 || s.Wait <= 0 {
		return 0, 0, false
	}
	from, to = s.WaitStart, s.WaitEnd
	if _, b, c, _, marked := s.marks(); marked {
		from, to = max(from, b+1), min(to, c-1)
	} else {
		from, to = max(from, s.Start), min(to, s.End)
	}
	return from, to, to > from
}

// WriteChrome writes t as a Chrome trace-event file (the JSON format chrome://tracing and
// https://ui.perfetto.dev load): one process per rank named "rank N", one thread per lane;
// a complete event ("ph":"X") per operation, with a "wait" child where it blocked; a flow
// ("ph":"s" on the send, "ph":"f" with "bp":"e" on the receive, one id per message) for every
// message. Times are microseconds with nanosecond decimals on rank 0's clock.
func (t *Trace) WriteChrome(w io.Writer) error {
	b := bufio.NewWriterSize(w, 1<<16)
	cw := chromeWriter{w: b}
	b.WriteString(`{"traceEvents":[`)
	for _, rk := range t.Ranks {
		if rk == nil {
			continue
		}
		name := "rank " + strconv.Itoa(rk.Rank)
		cw.meta(rk.Rank, -1, "process_name", `"name":`+jsonString(name))
		cw.meta(rk.Rank, -1, "process_sort_index", `"sort_index":`+strconv.Itoa(rk.Rank))
		for l := range rk.Lanes {
			lane := name
			if l > 0 {
				lane = fmt.Sprintf("%s (%d)", name, l+1)
			}
			cw.meta(rk.Rank, l, "thread_name", `"name":`+jsonString(lane))
		}
	}
	for _, rk := range t.Ranks {
		if rk == nil {
			continue
		}
		for i := range rk.Slices {
			cw.slice(t, rk, &rk.Slices[i])
		}
	}
	b.WriteString("\n],")
	b.WriteString(`"otherData":{"producer":"gompi","job":` + jsonString(t.Job) + `,"ranks":` + strconv.Itoa(t.Size) +
		`,"messages":` + strconv.Itoa(len(t.Flows)) + `,"unpaired":` + strconv.Itoa(t.Unpaired) + `,"backward":` + strconv.Itoa(t.Backward))
	for _, rk := range t.Ranks {
		if rk != nil {
			b.WriteString(`,"clock rank ` + strconv.Itoa(rk.Rank) + `":` + jsonString(rk.ClockNote()))
		}
	}
	b.WriteString(`,"notes":` + jsonString(strings.Join(t.Notes, "; ")) + "}}\n")
	return b.Flush()
}

// ClockNote says in words how the rank's clock was put on rank 0's.
func (rk *Rank) ClockNote() string {
	var s string
	switch {
	case rk.Rank == 0:
		s = "reference"
	case rk.SharedClock:
		s = fmt.Sprintf("same kernel as rank 0 (estimate %+.3f µs, round trip %.3f µs, not applied)", us(rk.Estimate), us(rk.RTT))
	case rk.RTT == 0:
		s = "no estimate"
	default:
		s = fmt.Sprintf("offset %+.3f µs taken off (round trip %.3f µs)", us(rk.Offset), us(rk.RTT))
	}
	if rk.Shift != 0 {
		s += fmt.Sprintf(", moved %.3f µs later", us(rk.Shift))
	}
	return s + ", host " + rk.Host
}

func us(ns int64) float64 { return float64(ns) / 1e3 }

type chromeWriter struct {
	w     *bufio.Writer
	first bool
}

func (cw *chromeWriter) sep() {
	if cw.first {
		cw.w.WriteString(",\n")
	} else {
		cw.w.WriteString("\n")
		cw.first = true
	}
}

// meta writes a metadata event; tid < 0 leaves it out (process metadata).
func (cw *chromeWriter) meta(pid, tid int, name, args string) {
	cw.sep()
	cw.w.WriteString(`{"ph":"M","pid":` + strconv.Itoa(pid))
	if tid >= 0 {
		cw.w.WriteString(`,"tid":` + strconv.Itoa(tid))
	}
	cw.w.WriteString(`,"name":"` + name + `","args":{` + args + `}}`)
}

// complete writes an "X" event. ts comes first: Perfetto's tokenizer looks for it before
// anything else.
func (cw *chromeWriter) complete(pid, tid int, start, end int64, name, cat, args string) {
	cw.sep()
	w := cw.w
	w.WriteString(`{"ph":"X","ts":` + micros(start) + `,"dur":` + micros(end-start) + `,"pid":` + strconv.Itoa(pid) +
		`,"tid":` + strconv.Itoa(tid) + `,"name":` + jsonString(name) + `,"cat":"` + cat + `"`)
	if args != "" {
		w.WriteString(`,"args":{` + args + `}`)
	}
	w.WriteString("}")
}

// flow writes one end of message id: ph "s" or "f".
func (cw *chromeWriter) flow(ph string, pid, tid int, ts int64, id int) {
	cw.sep()
	cw.w.WriteString(`{"ph":"` + ph + `","ts":` + micros(ts) + `,"pid":` + strconv.Itoa(pid) + `,"tid":` + strconv.Itoa(tid) +
		`,"id":` + strconv.Itoa(id+1) + `,"name":"message","cat":"message"`)
	if ph == "f" {
		cw.w.WriteString(`,"bp":"e"`)
	}
	cw.w.WriteString("}")
}

// slice writes s, its wait and marks, and the ends of its messages.
func (cw *chromeWriter) slice(t *Trace, rk *Rank, s *Slice) {
	pid, tid := rk.Rank, s.Lane
	cat := "point-to-point"
	switch s.Op {
	case OpCollective:
		cat = "collective"
	case OpInit, OpFinalize:
		cat = "lifecycle"
	}
	cw.complete(pid, tid, s.Start, s.End, s.Title(), cat, sliceArgs(s))
	a, b, c, d, marked := s.marks()
	if s.FlowOut >= 0 {
		f := t.Flows[s.FlowOut]
		if marked {
			cw.complete(pid, tid, a, b, "to "+strconv.Itoa(f.To), "message", "")
			cw.flow("s", pid, tid, a+1, s.FlowOut)
		} else {
			cw.flow("s", pid, tid, s.Start+(s.End-s.Start)/3, s.FlowOut)
		}
	}
	if from, to, ok := s.WaitSpan(); ok {
		cw.complete(pid, tid, from, to, "wait", "wait", `"wait_us":`+micros(s.Wait))
	}
	if s.FlowIn >= 0 {
		f := t.Flows[s.FlowIn]
		if marked {
			cw.complete(pid, tid, c, d, "from "+strconv.Itoa(f.From), "message", "")
			cw.flow("f", pid, tid, c+1, s.FlowIn)
		} else {
			cw.flow("f", pid, tid, s.End-(s.End-s.Start)/3, s.FlowIn)
		}
	}
}

// sliceArgs are the "args" of an operation's event.
func sliceArgs(s *Slice) string {
	var a []string
	add := func(k, v string) { a = append(a, `"`+k+`":`+v) }
	switch s.Op {
	case OpInit, OpFinalize:
		return ""
	case OpCollective:
		if s.Alg != "" {
			add("algorithm", jsonString(s.Alg))
		}
		add("comm", strconv.Itoa(int(CommID(s.Comm))))
		add("sent", strconv.FormatInt(s.Bytes, 10))
		add("received", strconv.FormatInt(s.RBytes, 10))
	default:
		if s.Dest >= 0 {
			add("to", strconv.Itoa(int(s.Dest)))
			add("tag", strconv.Itoa(int(s.Tag)))
			add("bytes", strconv.FormatInt(s.Bytes, 10))
		}
		if s.Src >= 0 {
			add("from", strconv.Itoa(int(s.Src)))
			add("received_tag", strconv.Itoa(int(s.RTag)))
			add("received", strconv.FormatInt(s.RBytes, 10))
		}
		add("comm", strconv.Itoa(int(CommID(s.Comm))))
		add("context", jsonString(ContextKind(s.Comm)))
		add("wait_us", micros(s.Wait))
	}
	if s.Failed {
		add("failed", "true")
	}
	return strings.Join(a, ",")
}

// CommID is the communicator an engine context id belongs to, numbered as the engine numbers
// them (the world is 0): a communicator's own messages use an even id, its collectives that id
// plus one, and the parts of Go values sent on it the id with bit 31 set.
func CommID(ctx uint32) uint32 { return ctx &^ (1<<31 | 1) }

// ContextKind says which of its communicator's contexts ctx is: "program" (the program's own
// messages), "collective" or "values" (the parts of large Go values).
func ContextKind(ctx uint32) string {
	switch {
	case ctx&(1<<31) != 0:
		return "values"
	case ctx&1 != 0:
		return "collective"
	}
	return "program"
}

// micros formats ns as microseconds with three decimals.
func micros(ns int64) string {
	sign := ""
	if ns < 0 {
		sign, ns = "-", -ns
	}
	frac := strconv.FormatInt(ns%1000, 10)
	return sign + strconv.FormatInt(ns/1000, 10) + "." + strings.Repeat("0", 3-len(frac)) + frac
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
