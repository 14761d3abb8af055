package collectives

import (
	"fmt"
	"testing"
)

// TestCheckMessages: the checker's wording of rank lists and groups, and names that fit a
// record's fields.
func TestCheckMessages(t *testing.T) {
	for _, tc := range []struct {
		ranks []int
		want  string
	}{
		{[]int{3}, "rank 3"},
		{[]int{0, 2}, "ranks 0, 2"},
		{[]int{0, 1}, "ranks 0, 1"},
		{[]int{0, 1, 2, 4, 6, 7, 8, 9}, "ranks 0-2, 4, 6-9"},
		{[]int{0, 2, 4, 6, 8, 10, 12, 14, 16, 18}, "ranks 0, 2, 4, 6, 8, 10, 12, 14, … (10 ranks)"},
	} {
		if got := rankList(tc.ranks); got != tc.want {
			t.Errorf("rankList(%v) = %q, want %q", tc.ranks, got, tc.want)
		}
	}
	for _, tc := range []struct {
		roots []int
		want  string
	}{
		{[]int{0, 1, 2, 3, 0, 0}, "rank 1 passes root 1, rank 2 passes root 2, rank 3 passes root 3, ranks 0, 4, 5 pass root 0"},
		{[]int{0, 1, 2, 3, 4, 0}, "rank 1 passes root 1, rank 2 passes root 2, rank 3 passes root 3, and 3 more ranks pass 2 other values"},
	} {
		got := groups(len(tc.roots), func(i int) any { return tc.roots[i] }, func(i int) (string, string) {
			return fmt.Sprintf("passes root %d", tc.roots[i]), fmt.Sprintf("pass root %d", tc.roots[i])
		})
		if got != tc.want {
			t.Errorf("groups(%v) = %q, want %q", tc.roots, got, tc.want)
		}
	}
	for _, name := range append(kindNames[1:], "BcastValue", "ScatterValue", "GatherValue", "AllgatherValue", "AllreduceValue", "ReduceValue", "ScanValue") {
		if len(name) > callField {
			t.Errorf("collective name %q is longer than the record's %d bytes", name, callField)
		}
	}
	for _, name := range []string{"Sum", "Prod", "Min", "Max", "LAnd", "LOr", "LXor", "BAnd", "BOr", "BXor", "MinLoc", "MaxLoc", "user op", "nil", "func", "nil func"} {
		if len(name) > opField {
			t.Errorf("op name %q is longer than the record's %d bytes", name, opField)
		}
	}
}
