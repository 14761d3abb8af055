package launcher

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseHosts(t *testing.T) {
	cases := []struct {
		spec string
		want []Host
		err  bool
	}{
		{"a:2,b:2", []Host{{"a", 2}, {"b", 2}}, false},
		{"a", []Host{{"a", 1}}, false},
		{"a,a,b:3", []Host{{"a", 2}, {"b", 3}}, false},
		{" a:1 , b ", []Host{{"a", 1}, {"b", 1}}, false},
		{"10.77.0.1:2,10.77.0.2:2", []Host{{"10.77.0.1", 2}, {"10.77.0.2", 2}}, false},
		{"[::1]:4,[fe80::1]", []Host{{"::1", 4}, {"fe80::1", 1}}, false},
		{"a:0", nil, true},
		{"a:x", nil, true},
		{":2", nil, true},
		{"", nil, true},
		{"[::1", nil, true},
		{"[::1]x", nil, true},
	}
	for _, tc := range cases {
		got, err := ParseHosts(tc.spec)
		if tc.err {
			if err == nil {
				t.Errorf("ParseHosts(%q) = %v, want an error", tc.spec, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseHosts(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
}

func TestParseHostfile(t *testing.T) {
	text := `# cluster
node1 slots=4   # the big one
node2

node3 slots=2
node2 slots=2
`
	got, err := ParseHostfile(strings.NewReader(text))
	want := []Host{{"node1", 4}, {"node2", 3}, {"node3", 2}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseHostfile = %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{"node1 slots=0\n", "node1 cpus=2\n", "node1 slots\n", "# nothing\n"} {
		if got, err := ParseHostfile(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseHostfile(%q) = %v, want an error", bad, got)
		}
	}
	if _, err := ReadHostfile("/nonexistent/hostfile"); err == nil {
		t.Error("ReadHostfile of a missing file succeeded")
	}
}

func TestPlace(t *testing.T) {
	type s = Slot
	cases := []struct {
		name  string
		hosts []Host
		np    int
		want  []Slot
	}{
		{"no hosts", nil, 3, []Slot{
			s{0, "localhost", true, 0, 3}, s{1, "localhost", true, 1, 3}, s{2, "localhost", true, 2, 3}}},
		{"fill by slot", []Host{{"a", 2}, {"b", 2}}, 4, []Slot{
			s{0, "a", false, 0, 2}, s{1, "a", false, 1, 2}, s{2, "b", false, 0, 2}, s{3, "b", false, 1, 2}}},
		{"fewer ranks than slots", []Host{{"a", 2}, {"b", 2}}, 3, []Slot{
			s{0, "a", false, 0, 2}, s{1, "a", false, 1, 2}, s{2, "b", false, 0, 1}}},
		{"oversubscribed wraps around", []Host{{"localhost", 1}, {"b", 2}}, 5, []Slot{
			s{0, "localhost", true, 0, 2}, s{1, "b", false, 0, 3}, s{2, "b", false, 1, 3},
			s{3, "localhost", true, 1, 2}, s{4, "b", false, 2, 3}}},
	}
	for _, tc := range cases {
		if got := Place(tc.hosts, tc.np); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Place(%v, %d) =\n%v\nwant\n%v", tc.name, tc.hosts, tc.np, got, tc.want)
		}
	}
	if n := TotalSlots([]Host{{"a", 2}, {"b", 3}}); n != 5 {
		t.Errorf("TotalSlots = %d, want 5", n)
	}
}

func TestHostIsLocal(t *testing.T) {
	for name, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "node1": false, "10.77.0.1": false} {
		if got := (Host{Name: name, Slots: 1}).IsLocal(); got != want {
			t.Errorf("Host %q IsLocal = %v, want %v", name, got, want)
		}
	}
}
