package pmi

import (
	"slices"
	"strings"
	"testing"
)

func TestMapping(t *testing.T) {
	for _, tc := range []struct {
		in    string
		size  int
		nodes []int
	}{
		{"(vector,(0,1,4))", 4, []int{0, 0, 0, 0}},
		{"(vector,(0,2,2))", 4, []int{0, 0, 1, 1}},
		{"(vector,(0,2,1))", 5, []int{0, 1, 0, 1, 0}}, // round robin: the vector repeats
		{"(vector,(0,2,2),(2,1,1))", 5, []int{0, 0, 1, 1, 2}},
		{" (vector, (0,1,2) ) ", 2, []int{0, 0}},
		{"(vector,(0,1,8))", 3, []int{0, 0, 0}}, // more places than ranks
	} {
		b, err := ParseMapping(tc.in)
		if err != nil {
			t.Errorf("ParseMapping(%q): %v", tc.in, err)
			continue
		}
		nodes, err := Nodes(b, tc.size)
		if err != nil || !slices.Equal(nodes, tc.nodes) {
			t.Errorf("Nodes(%q, %d) = %v, %v; want %v", tc.in, tc.size, nodes, err, tc.nodes)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "want (vector"},
		{"(vector,(0,1))", "has 2 numbers"},
		{"(vector,(0,1,x))", `"x" is not a number`},
		{"(vector,(0,1,-1))", `"-1" is not a number`},
		{"(vector,(0,1,4)", "want (vector"},
		{"(vector(0,1,4))", "want (vector"},
	} {
		if _, err := ParseMapping(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseMapping(%q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
	b, err := ParseMapping("(vector)")
	if err != nil || len(b) != 0 {
		t.Fatalf("ParseMapping((vector)) = %v, %v", b, err)
	}
	if _, err := Nodes(b, 2); err == nil || !strings.Contains(err.Error(), "places no rank") {
		t.Fatalf("Nodes of an empty vector: %v", err)
	}
	local, idx := Local([]int{0, 1, 0, 1, 0}, 2)
	if !slices.Equal(local, []int{0, 2, 4}) || idx != 1 {
		t.Fatalf("Local = %v, %d; want [0 2 4], 1", local, idx)
	}
}
