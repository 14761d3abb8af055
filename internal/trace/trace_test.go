package trace

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRecorderKeepsAtMostMaxAndStops(t *testing.T) {
	before := active.Load()
	r := NewRecorder(1, 4, 2)
	if !Active() || active.Load() != before+1 {
		t.Fatalf("a new recorder does not count as active")
	}
	for i := range 5 {
		r.Add(&Event{Op: OpSend, Start: int64(i), End: int64(i + 1)})
	}
	r.AddClock(Clock{At: 7, Offset: -3, RTT: 20})
	p := r.Part("job", "host", "boot")
	if active.Load() != before {
		t.Errorf("a stopped recorder still counts as active")
	}
	r.Add(&Event{Op: OpRecv})
	r.Stop()
	if len(p.Events) != 2 || p.Dropped != 3 {
		t.Errorf("kept %d events and dropped %d, want 2 and 3", len(p.Events), p.Dropped)
	}
	if again := r.Part("job", "host", "boot"); len(again.Events) != 2 {
		t.Errorf("an event added after Stop was kept")
	}
	if p.Rank != 1 || p.Size != 4 || p.Job != "job" || len(p.Clocks) != 1 || p.Clocks[0].Offset != -3 {
		t.Errorf("part header %+v", p)
	}
	if p.End < p.Events[1].End {
		t.Errorf("the part ends at %d, before its last event (%d)", p.End, p.Events[1].End)
	}
}

func TestIntern(t *testing.T) {
	a, b := Intern("Allreduce-test"), Intern("ring-test")
	if a == 0 || b == 0 || a == b || Intern("Allreduce-test") != a || Intern("") != 0 {
		t.Fatalf("Intern: %d %d %d", a, b, Intern(""))
	}
	if n := Names(); n[a] != "Allreduce-test" || n[b] != "ring-test" || n[0] != "" {
		t.Errorf("Names()[%d], [%d] = %q, %q", a, b, n[a], n[b])
	}
}

func TestPartRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t [1].json") // glob characters in the name
	p := &Part{Job: "j", Rank: 2, Size: 3, Host: "h", Boot: "b", Wall0: 1 << 60, End: 99, Dropped: 1,
		Clocks: []Clock{{At: 1, Offset: 2, RTT: 3}}, Names: []string{"", "Bcast", "binomial"},
		Events: []Event{
			{Op: OpCollective, Start: 1, End: 90, Name: 1, Alg: 2, Dest: -1, Src: -1, Tag: -1, RTag: -1, Comm: 1},
			{Op: OpSendrecv, Start: 2, End: 80, WaitStart: 3, WaitEnd: 70, Wait: 60, Bytes: 8, RBytes: 16,
				Out: 1<<63 | 5, In: 7, Dest: 0, Src: 1, Tag: 16, RTag: 17, Comm: 1, Failed: true},
		}}
	if err := WritePart(path, p); err != nil {
		t.Fatal(err)
	}
	for _, r := range []int{0, 10, 9} {
		q := *p
		q.Rank, q.Size = r, 11
		if err := WritePart(path, &q); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(path+".rank-x.part", nil, 0o644) // not a part name: ignored
	got, err := ReadPart(PartPath(path, 2))
	if err != nil {
		t.Fatal(err)
	}
	want := *p
	want.Version, want.N = PartVersion, len(p.Events)
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, &want)
	}
	found, err := FindParts(path)
	if err != nil {
		t.Fatal(err)
	}
	var ranks []string
	for _, f := range found {
		ranks = append(ranks, strings.TrimPrefix(f, path))
	}
	if w := []string{".rank-0.part", ".rank-2.part", ".rank-9.part", ".rank-10.part"}; !reflect.DeepEqual(ranks, w) {
		t.Errorf("FindParts: %q, want %q", ranks, w)
	}
}

func TestReadPartRejectsDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	p := &Part{Job: "j", Rank: 0, Size: 1, Names: []string{""}, Events: []Event{{Op: OpSend}, {Op: OpRecv}}}
	if err := WritePart(path, p); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(PartPath(path, 0))
	if err != nil {
		t.Fatal(err)
	}
	header := strings.Index(string(good), "\n") + 1
	for _, tc := range []struct {
		name string
		data string
	}{
		{"truncated events", string(good[:len(good)-3])},
		{"extra bytes", string(good) + "x"},
		{"no header", "garbage"},
		{"other version", strings.Replace(string(good), `"version":1`, `"version":9`, 1)},
		{"rank outside the job", strings.Replace(string(good), `"rank":0`, `"rank":5`, 1)},
		{"name out of the table", string(good[:header]) + string(good[header:header+eventSize-6]) + "\x07\x00" + string(good[header+eventSize-4:])},
	} {
		os.WriteFile(PartPath(path, 0), []byte(tc.data), 0o644)
		if _, err := ReadPart(PartPath(path, 0)); err == nil {
			t.Errorf("%s: read without error", tc.name)
		}
	}
	if _, err := ReadPart(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing part: %v", err)
	}
}
