package trace

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestWriteChromePassesCheck: the Chrome file of a merged trace (a collective with exchanges
// inside, waits, a message to self, two lanes) passes CheckChrome, with every message.
func TestWriteChromePassesCheck(t *testing.T) {
	coll := Event{Op: OpCollective, Start: 0, End: 1000, Name: 1, Alg: 2, Dest: -1, Src: -1, Bytes: 8, RBytes: 8}
	tr := mustMerge(t,
		part(0, 2, 0, "k",
			coll,
			Event{Op: OpSendrecv, Start: 10, End: 900, WaitStart: 20, WaitEnd: 880, Wait: 700, Dest: 1, Out: 1, Src: 1, In: 2, Bytes: 8, RBytes: 8, Tag: 64, RTag: 64},
			send(2000, 2100, 0, 3), recv(2200, 2300, 0, 3), // to itself
			recv(950, 3000, 1, 4), // another goroutine, overlapping the collective's end
			Event{Op: OpInit, End: 5, Dest: -1, Src: -1}),
		part(1, 2, 0, "k",
			coll,
			Event{Op: OpSendrecv, Start: 500, End: 990, WaitStart: 510, WaitEnd: 980, Wait: 470, Dest: 0, Out: 2, Src: 0, In: 1, Bytes: 8, RBytes: 8, Tag: 64, RTag: 64},
			send(2500, 2503, 0, 4))) // too short for marks: the flow binds to the send itself
	var buf bytes.Buffer
	if err := tr.WriteChrome(&buf); err != nil {
		t.Fatal(err)
	}
	sum, err := CheckChrome(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(sum.Ranks) != 2 || sum.Flows != 4 || sum.Lanes[0] != 2 || sum.Lanes[1] != 1 {
		t.Errorf("summary %v, lanes %v", sum, sum.Lanes)
	}
	for r := range 2 {
		if sum.Slices[r]["Allreduce"] != 1 || sum.Slices[r]["wait"] != 1 {
			t.Errorf("rank %d: slices %v", r, sum.Slices[r])
		}
	}
	var doc struct {
		TraceEvents []map[string]any `json:"traceEvents"`
		OtherData   map[string]any   `json:"otherData"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range doc.TraceEvents {
		if e["name"] == "Allreduce" {
			args := e["args"].(map[string]any)
			if args["algorithm"] != "ring" || args["sent"] != 8.0 {
				t.Errorf("Allreduce args %v", args)
			}
			found = true
		}
		if e["name"] == "Sendrecv" && e["pid"] == 0.0 {
			if args := e["args"].(map[string]any); args["wait_us"] != 0.7 || args["context"] != "program" {
				t.Errorf("Sendrecv args %v", args)
			}
		}
	}
	if !found || doc.OtherData["messages"] != 4.0 || doc.OtherData["clock rank 1"] == nil {
		t.Errorf("Allreduce found %v; otherData %v", found, doc.OtherData)
	}
}

// TestCheckChromeRejects: each thing a viewer would drop or draw wrong is reported.
func TestCheckChromeRejects(t *testing.T) {
	const names = `{"ph":"M","pid":0,"name":"process_name","args":{"name":"rank 0"}},{"ph":"M","pid":1,"name":"process_name","args":{"name":"rank 1"}}`
	x := func(pid int, ts, dur string) string {
		return `{"ph":"X","ts":` + ts + `,"dur":` + dur + `,"pid":` + string(rune('0'+pid)) + `,"tid":0,"name":"Send","cat":"c"}`
	}
	flow := func(ph string, pid int, ts string) string {
		s := `{"ph":"` + ph + `","ts":` + ts + `,"pid":` + string(rune('0'+pid)) + `,"tid":0,"id":1,"name":"message","cat":"message"`
		if ph == "f" {
			s += `,"bp":"e"`
		}
		return s + "}"
	}
	doc := func(events ...string) string {
		return `{"traceEvents":[` + names + "," + strings.Join(events, ",") + `]}`
	}
	good := doc(x(0, "1", "2"), flow("s", 0, "2"), x(1, "5", "2"), flow("f", 1, "6"))
	if _, err := CheckChrome(strings.NewReader(good)); err != nil {
		t.Fatalf("a good file: %v", err)
	}
	for _, tc := range []struct{ name, doc string }{
		{"not JSON", `{"traceEvents":[`},
		{"other first key", `{"otherData":{},"traceEvents":[]}`},
		{"process misnamed", strings.Replace(good, `"rank 1"`, `"rank one"`, 1)},
		{"overlap without nesting", doc(x(0, "1", "5"), x(0, "3", "5"))},
		{"flow without end", doc(x(0, "1", "2"), flow("s", 0, "2"))},
		{"flow end without bp", strings.Replace(good, `,"bp":"e"`, "", 1)},
		{"flow end outside slices", doc(x(0, "1", "2"), flow("s", 0, "2"), x(1, "5", "2"), flow("f", 1, "9"))},
		{"backwards", doc(x(0, "5", "2"), flow("s", 0, "6"), x(1, "1", "2"), flow("f", 1, "2"))},
		{"end slice starts before start slice ends", doc(x(0, "1", "5"), flow("s", 0, "2"), x(1, "4", "5"), flow("f", 1, "5"))},
		{"slice without duration", doc(`{"ph":"X","ts":1,"pid":0,"tid":0,"name":"a"}`)},
	} {
		if _, err := CheckChrome(strings.NewReader(tc.doc)); err == nil {
			t.Errorf("%s: passed", tc.name)
		}
	}
}

func TestMicros(t *testing.T) {
	for ns, want := range map[int64]string{0: "0.000", 1: "0.001", 999: "0.999", 1000: "1.000", 1234567: "1234.567", -1500: "-1.500"} {
		if got := micros(ns); got != want {
			t.Errorf("micros(%d) = %s, want %s", ns, got, want)
		}
	}
	if got := jsonString("a\"b\\c\n"); got != `"a\"b\\c\u000a"` {
		t.Errorf("jsonString: %s", got)
	}
}
