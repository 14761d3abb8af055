package collectives

import (
	"strings"
	"testing"
)

// TestCheckRecordRoundTrip: a fingerprint comes out of its record as it went in, names that
// fill their fields included; an element type's name too long for its field is cut and marked,
// and still compared whole (by its hash).
func TestCheckRecordRoundTrip(t *testing.T) {
	long := "collectives.Pair[github.com/someone/somewhere.Vector3]"
	for _, f := range []fingerprint{
		{call: "AllgatherValue", root: -1, count: -1, op: "nil func"},
		{call: "Gatherv", root: 2, count: -1, elem: strings.Repeat("x", elemField-1), esize: 24, vec: vecGatherv, mine: 5, a: []int{1, 2, 3}},
		{call: "Allreduce", root: -1, count: 1 << 40, elem: long, esize: 16, op: "user op", commutative: true},
	} {
		b := make([]byte, recordSize)
		f.encode(b, 7, 2, 3)
		r := decodeRecord(b)
		elem := f.elem
		if len(elem) >= elemField {
			elem = elem[:elemField-1] + "…"
		}
		if r.call != f.call || r.seq != 7 || r.root != f.root || r.count != f.count || r.op != f.op || r.commutative != f.commutative ||
			r.elem != elem || r.esize != f.esize || r.elemHash != fnv(f.elem) || r.vec != f.vec || r.mine != f.mine || !r.valid {
			t.Errorf("%+v came back as %+v", f, r)
		}
	}
}
