package launcher

import (
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

var hostlistCases = []struct {
	expr string
	want []string // nil: an error
}{
	{"vm", []string{"vm"}},
	{"node[01-04,07]", []string{"node01", "node02", "node03", "node04", "node07"}},
	{"a[1-2]-ib,b3", []string{"a1-ib", "a2-ib", "b3"}},
	{"x[8-11]", []string{"x8", "x9", "x10", "x11"}},
	{"x[08-11]", []string{"x08", "x09", "x10", "x11"}},
	{"n[009-011]", []string{"n009", "n010", "n011"}},
	{"r[1-2]n[01-02]", []string{"r1n01", "r1n02", "r2n01", "r2n02"}},
	{"c[1-2],d[3]", []string{"c1", "c2", "d3"}},
	{"a,b , c", []string{"a", "b", "c"}},
	{"[1-3]", []string{"1", "2", "3"}},
	{"node-[1,3]-x.example.org", []string{"node-1-x.example.org", "node-3-x.example.org"}},
	{"n[0-0]", []string{"n0"}},
	{"", nil},
	{",", nil},
	{"n[", nil},
	{"n]", nil},
	{"n[1-2", nil},
	{"n[2-1]", nil},
	{"n[a-b]", nil},
	{"n[1-]", nil},
	{"n[]", nil},
	{"n[[1]]", nil},
	{"n[1,,2]", nil},
	{"n[0-99999999]", nil}, // more hosts than maxHostlist
	{"a[0-9999]b[0-9999]", nil},
}

func TestExpandHostlist(t *testing.T) {
	for _, tc := range hostlistCases {
		got, err := ExpandHostlist(tc.expr)
		if tc.want == nil {
			if err == nil {
				t.Errorf("ExpandHostlist(%q) = %q, want an error", tc.expr, got)
			} else if !strings.Contains(err.Error(), tc.expr) {
				t.Errorf("ExpandHostlist(%q): error %q does not name the expression", tc.expr, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ExpandHostlist(%q) = %q, %v; want %q", tc.expr, got, err, tc.want)
		}
	}
}

// Where Slurm's own scontrol is installed, it agrees with ExpandHostlist on every expression
// both accept (Slurm 22.05 refuses text after a bracket, "a[1-2]-ib", which ours accepts).
func TestExpandHostlistAgreesWithScontrol(t *testing.T) {
	if _, err := exec.LookPath("scontrol"); err != nil {
		t.Skip("skipping: no scontrol (Slurm's client: apt-get install slurm-client)")
	}
	compared := 0
	for _, tc := range hostlistCases {
		if tc.want == nil {
			continue
		}
		out, err := exec.Command("scontrol", "show", "hostnames", tc.expr).Output()
		if err != nil || len(out) == 0 { // refused ("Invalid hostlist", exit status 0)
			continue
		}
		compared++
		if got := strings.Fields(string(out)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("scontrol show hostnames %q = %q, ExpandHostlist says %q", tc.expr, got, tc.want)
		}
	}
	if compared < 5 {
		t.Errorf("scontrol accepted only %d of the expressions", compared)
	}
}

func FuzzExpandHostlist(f *testing.F) {
	for _, tc := range hostlistCases {
		f.Add(tc.expr)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		names, err := ExpandHostlist(expr)
		if err != nil {
			return
		}
		if len(names) == 0 || len(names) > maxHostlist {
			t.Fatalf("ExpandHostlist(%q): %d names", expr, len(names))
		}
		for _, n := range names {
			if n == "" || strings.ContainsAny(n, "[],") {
				t.Fatalf("ExpandHostlist(%q): name %q", expr, n)
			}
		}
		// A list of plain names expands to itself.
		again, err := ExpandHostlist(strings.Join(names, ","))
		if err != nil || !reflect.DeepEqual(again, names) {
			t.Fatalf("ExpandHostlist(%q) = %q, but its names joined expand to %q, %v", expr, names, again, err)
		}
	})
}

func TestExpandTasksPerNode(t *testing.T) {
	cases := []struct {
		spec string
		want []int
	}{
		{"4", []int{4}},
		{"2(x3),1", []int{2, 2, 2, 1}},
		{"1,2(x2)", []int{1, 2, 2}},
		{"", nil},
		{"0", nil},
		{"2(x0)", nil},
		{"2(3)", nil},
		{"2(x3", nil},
		{"x", nil},
		{"2(x99999999)", nil},
	}
	for _, tc := range cases {
		got, err := ExpandTasksPerNode(tc.spec)
		if tc.want == nil {
			if err == nil {
				t.Errorf("ExpandTasksPerNode(%q) = %v, want an error", tc.spec, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ExpandTasksPerNode(%q) = %v, %v; want %v", tc.spec, got, err, tc.want)
		}
	}
}
