package collectives

import (
	"encoding/binary"
	"slices"
)

// The checker's records: a fingerprint (check.go) on the wire, and the hashes of counts.

// A record is a fingerprint on the wire: recordSize bytes, little-endian, at these offsets.
// The bytes before recShared hold what every rank must pass alike, those from it what differs
// by rank. The collective's and the op's names fit their fields (a test checks); the element
// type's is cut at elemField-1 bytes, its last byte then 1 (it is compared by its hash).
const (
	recSeq         = 0  // uint64
	recRoot        = 8  // int64
	recCount       = 16 // int64
	recESize       = 24 // int64
	recElemH       = 32 // uint64: FNV-1a of the element type's name
	recCommutative = 40 // byte: 1 if the op commutes
	recVec         = 41 // byte: the vecCheck
	recCall        = 42 // callField bytes: the collective's name
	recOp          = 56 // opField bytes: the op's name
	recElem        = 64 // elemField bytes: the element type's name
	recShared      = 96
	recMine        = 96  // int64
	recVecA        = 104 // uint64: hash of the counts (of the send counts for Alltoallv)
	recVecB        = 112 // uint64: hash of Alltoallv's recv counts
	recValid       = 120 // byte: 1 if the counts are well formed (else the call's own checks fail)
	recordSize     = 128

	callField = recOp - recCall
	opField   = recElem - recOp
	elemField = recShared - recElem
)

// checkRecord is a decoded fingerprint.
type checkRecord struct {
	seq                  uint64
	root, count, mine    int
	esize                int
	elemHash, vecA, vecB uint64
	commutative, valid   bool
	vec                  vecCheck
	call, op, elem       string
}

// encode writes f into b (recordSize bytes) for call number seq of rank me of p.
func (f *fingerprint) encode(b []byte, seq uint64, me, p int) {
	clear(b)
	le := binary.LittleEndian
	le.PutUint64(b[recSeq:], seq)
	le.PutUint64(b[recRoot:], uint64(int64(f.root)))
	le.PutUint64(b[recCount:], uint64(int64(f.count)))
	le.PutUint64(b[recMine:], uint64(int64(f.mine)))
	le.PutUint64(b[recESize:], uint64(int64(f.esize)))
	le.PutUint64(b[recElemH:], fnv(f.elem))
	if f.commutative {
		b[recCommutative] = 1
	}
	if f.vecValid(me, p) {
		b[recValid] = 1
		var a, bb uint64
		switch f.vec {
		case vecGatherv, vecScatterv:
			if me == f.root {
				a = hashCounts(f.a)
			}
		case vecAllgatherv, vecReduceScatter:
			a = hashCounts(f.a)
		case vecAlltoallv:
			for j, n := range f.a {
				a += mix(me, j, n)
			}
			for i, n := range f.b {
				bb += mix(i, me, n)
			}
		}
		le.PutUint64(b[recVecA:], a)
		le.PutUint64(b[recVecB:], bb)
	}
	b[recVec] = byte(f.vec)
	copy(b[recCall:recCall+callField], f.call)
	copy(b[recOp:recOp+opField], f.op)
	if copy(b[recElem:recElem+elemField-1], f.elem) < len(f.elem) {
		b[recElem+elemField-1] = 1 // cut
	}
}

// vecValid reports whether f's counts vectors are well formed for rank me of p: p counts, none
// negative, where the call reads them. A malformed one is an argument error the call reports
// on that rank as without the checker; the checker leaves the counts alone then.
func (f *fingerprint) vecValid(me, p int) bool {
	ok := func(v []int) bool {
		return len(v) == p && !slices.ContainsFunc(v, func(n int) bool { return n < 0 })
	}
	switch f.vec {
	case vecGatherv, vecScatterv:
		return me != f.root || ok(f.a)
	case vecAllgatherv, vecReduceScatter:
		return ok(f.a)
	case vecAlltoallv:
		return ok(f.a) && ok(f.b)
	}
	return true
}

// vecLen is the length of each rank's vectors in the second exchange.
func vecLen(v vecCheck, p int) int {
	if v == vecAlltoallv {
		return 2 * p
	}
	return p
}

// vectors encodes f's counts for the second exchange: vecLen entries (zeros where a rank has
// none: Gatherv's and Scatterv's ranks other than the root).
func (f *fingerprint) vectors(me, p int) []byte {
	n := vecLen(f.vec, p)
	b := make([]byte, n*8)
	v := f.a
	if (f.vec == vecGatherv || f.vec == vecScatterv) && me != f.root {
		v = nil
	}
	if f.vec == vecAlltoallv {
		v = append(slices.Clone(f.a), f.b...)
	}
	for i, x := range v {
		if i < n {
			binary.LittleEndian.PutUint64(b[i*8:], uint64(int64(x)))
		}
	}
	return b
}

// decodeRecord decodes the record b.
func decodeRecord(b []byte) checkRecord {
	le := binary.LittleEndian
	i64 := func(off int) int { return int(int64(le.Uint64(b[off:]))) }
	str := func(off, n int) string {
		s := b[off : off+n]
		if i := slices.Index(s, 0); i >= 0 {
			return string(s[:i])
		}
		return string(s)
	}
	elem := str(recElem, elemField-1)
	if b[recElem+elemField-1] != 0 {
		elem += "…"
	}
	return checkRecord{
		seq: le.Uint64(b[recSeq:]), root: i64(recRoot), count: i64(recCount), mine: i64(recMine),
		esize: i64(recESize), elemHash: le.Uint64(b[recElemH:]),
		vecA: le.Uint64(b[recVecA:]), vecB: le.Uint64(b[recVecB:]),
		commutative: b[recCommutative] != 0, valid: b[recValid] != 0,
		vec: vecCheck(b[recVec]), call: str(recCall, callField), op: str(recOp, opField), elem: elem,
	}
}

// fnv is the 64-bit FNV-1a hash of s.
func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix hashes count n at position (i, j) of a counts matrix (j = -1 for a vector): a sum of
// mixes over positions changes when any count does (but with probability 2⁻⁶⁴).
func mix(i, j, n int) uint64 {
	h := fmix(uint64(i) + 0x9e3779b97f4a7c15)
	h = fmix(h ^ uint64(j))
	return fmix(h ^ uint64(n))
}

// fmix is MurmurHash3's 64-bit finalizer, a bijection that spreads every input bit.
func fmix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// hashCounts hashes a counts vector (see mix).
func hashCounts(v []int) uint64 {
	var h uint64
	for i, n := range v {
		h += mix(i, -1, n)
	}
	return h
}
