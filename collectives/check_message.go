package collectives

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gompi/gompi/comm"
)

// The checker's messages: how the ranks' records (check_record.go) differ, said the same way on
// every rank.

// mismatch is what every rank finds: where the ranks differ, said the same way on each.
type mismatch struct {
	call     string // "" when the collectives themselves differ
	seq      uint64 // 0 when the sequence numbers differ
	msg      string
	sentinel error
}

// err is the mismatch's error on communicator c.
func (m *mismatch) err(c *comm.Comm) error {
	call := m.call
	if call == "" {
		call = "collective"
	}
	if m.seq != 0 {
		call += " #" + strconv.FormatUint(m.seq, 10)
	}
	return &mismatchError{msg: fmt.Sprintf("collectives: %s on %s: %s", call, commName(c), m.msg), sentinel: m.sentinel}
}

// firstMismatch compares the records field by field and describes the first field that
// differs, or returns nil.
func firstMismatch(recs []checkRecord) *mismatch {
	r0 := recs[0]
	m := &mismatch{call: r0.call, seq: r0.seq, sentinel: comm.ErrInvalidArgument}
	// field describes the field whose value (a comparable key) is key(r) if the ranks differ
	// in it, with say giving a rank's value after "rank i" and "ranks i, j".
	field := func(key func(r *checkRecord) any, say func(r *checkRecord) (one, many string)) bool {
		for i := range recs {
			if key(&recs[i]) != key(&r0) {
				m.msg = groups(len(recs), func(i int) any { return key(&recs[i]) }, func(i int) (string, string) { return say(&recs[i]) })
				return true
			}
		}
		return false
	}
	passes := func(s string) (string, string) { return "passes " + s, "pass " + s }
	switch {
	case field(func(r *checkRecord) any { return r.call }, func(r *checkRecord) (string, string) {
		return "calls " + r.call, "call " + r.call
	}):
		m.call = ""
	case field(func(r *checkRecord) any { return r.seq }, func(r *checkRecord) (string, string) {
		return fmt.Sprintf("is at collective #%d", r.seq), fmt.Sprintf("are at collective #%d", r.seq)
	}):
		m.seq = 0
	case field(func(r *checkRecord) any { return r.root }, func(r *checkRecord) (string, string) {
		return passes(fmt.Sprintf("root %d", r.root))
	}):
		m.sentinel = comm.ErrInvalidRoot
	case field(func(r *checkRecord) any { return [2]uint64{r.elemHash, uint64(r.esize)} }, func(r *checkRecord) (string, string) {
		return passes(fmt.Sprintf("%s (%d bytes)", r.elem, r.esize))
	}):
	case field(func(r *checkRecord) any { return r.count }, func(r *checkRecord) (string, string) {
		return passes(elements(r.count))
	}):
		m.sentinel = comm.ErrSizeMismatch
	case field(func(r *checkRecord) any { return opKey{r.op, r.commutative} }, func(r *checkRecord) (string, string) {
		return passes(opKey{r.op, r.commutative}.String())
	}):
	default:
		return nil
	}
	return m
}

// opKey is an operation as the checker compares it.
type opKey struct {
	name        string
	commutative bool
}

func (o opKey) String() string {
	switch {
	case o.name == "nil":
		return "a nil Op"
	case o.name == "func":
		return "a function"
	case o.name == "nil func":
		return "a nil function"
	case o.name != "user op":
		return "op " + o.name
	case o.commutative:
		return "a commutative user op"
	}
	return "a non-commutative user op"
}

// elements says "1 element" or "n elements".
func elements(n int) string {
	if n == 1 {
		return "1 element"
	}
	return strconv.Itoa(n) + " elements"
}

// maxGroups bounds the groups of ranks a message lists; maxRanks the ranks it names per group.
const (
	maxGroups = 3
	maxRanks  = 8
)

// groups says how the ranks' values of one field differ: ranks 0..p-1 grouped by key(i), the
// smallest groups first (the odd ones out), ties in order of their lowest rank, each as
// "rank 1 passes root 1" or "ranks 0, 2 pass root 0" (say(i) gives the words after "rank i" and
// after "ranks i, j" for a rank of the group); beyond maxGroups+1 groups, the first maxGroups
// and how many ranks and values are left.
func groups(p int, key func(i int) any, say func(i int) (one, many string)) string {
	var order []any
	members := map[any][]int{}
	for i := range p {
		k := key(i)
		if _, ok := members[k]; !ok {
			order = append(order, k)
		}
		members[k] = append(members[k], i)
	}
	slices.SortStableFunc(order, func(a, b any) int { return len(members[a]) - len(members[b]) })
	shown := len(order)
	if shown > maxGroups+1 { // the last line would name one group: name it instead
		shown = maxGroups
	}
	var parts []string
	rest := 0
	for n, k := range order {
		ranks := members[k]
		if n >= shown {
			rest += len(ranks)
			continue
		}
		one, many := say(ranks[0])
		if len(ranks) == 1 {
			parts = append(parts, rankList(ranks)+" "+one)
		} else {
			parts = append(parts, rankList(ranks)+" "+many)
		}
	}
	if rest > 0 {
		parts = append(parts, fmt.Sprintf("and %d more ranks pass %d other values", rest, len(order)-shown))
	}
	return strings.Join(parts, ", ")
}

// rankList names ranks (ascending): "rank 3", "ranks 0, 2", "ranks 0-4, 7"; runs of three or
// more as ranges, at most maxRanks items, then how many ranks in all.
func rankList(ranks []int) string {
	if len(ranks) == 1 {
		return "rank " + strconv.Itoa(ranks[0])
	}
	var items []string
	for i := 0; i < len(ranks); {
		j := i
		for j+1 < len(ranks) && ranks[j+1] == ranks[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			items = append(items, fmt.Sprintf("%d-%d", ranks[i], ranks[j]))
		case j > i:
			items = append(items, strconv.Itoa(ranks[i]), strconv.Itoa(ranks[j]))
		default:
			items = append(items, strconv.Itoa(ranks[i]))
		}
		i = j + 1
	}
	if len(items) > maxRanks {
		return fmt.Sprintf("ranks %s, … (%d ranks)", strings.Join(items[:maxRanks], ", "), len(ranks))
	}
	return "ranks " + strings.Join(items, ", ")
}

// vectorsDiffer reports whether the hashes of the counts in recs show a mismatch. Every rank
// decides alike, from the same records, whether to exchange the vectors themselves.
func vectorsDiffer(recs []checkRecord) bool {
	p := len(recs)
	for i := range recs {
		if !recs[i].valid {
			return false // a malformed vector: the call itself fails on that rank
		}
	}
	var mines uint64
	for i := range recs {
		mines += mix(i, -1, recs[i].mine)
	}
	switch recs[0].vec {
	case vecGatherv, vecScatterv:
		root := recs[0].root
		return root >= 0 && root < p && recs[root].vecA != mines
	case vecAllgatherv:
		return slices.ContainsFunc(recs, func(r checkRecord) bool { return r.vecA != mines })
	case vecReduceScatter:
		return slices.ContainsFunc(recs, func(r checkRecord) bool { return r.vecA != recs[0].vecA })
	case vecAlltoallv:
		var a, b uint64
		for _, r := range recs {
			a += r.vecA
			b += r.vecB
		}
		return a != b
	}
	return false
}

// vectorMismatch describes the first difference in the counts vecs[i] of every rank i (see
// fingerprint.vectors).
func vectorMismatch(recs []checkRecord, vecs [][]int) *mismatch {
	p := len(recs)
	r0 := recs[0]
	m := &mismatch{call: r0.call, seq: r0.seq, sentinel: comm.ErrSizeMismatch}
	more := func(n int, what string) string {
		if n == 0 {
			return ""
		}
		return fmt.Sprintf(" (and %d more %s)", n, what)
	}
	// alike describes the first position at which the ranks' vectors differ, or returns "".
	alike := func(what string) string {
		for k := range p {
			if slices.ContainsFunc(vecs, func(v []int) bool { return v[k] != vecs[0][k] }) {
				return groups(p, func(i int) any { return vecs[i][k] }, func(i int) (string, string) {
					s := fmt.Sprintf("%s[%d] = %d", what, k, vecs[i][k])
					return "passes " + s, "pass " + s
				})
			}
		}
		return ""
	}
	switch r0.vec {
	case vecGatherv, vecScatterv:
		root := r0.root
		var first, n int
		for i := range p {
			if vecs[root][i] != recs[i].mine {
				if n == 0 {
					first = i
				}
				n++
			}
		}
		if n > 0 {
			i, want := first, vecs[root][first]
			if r0.vec == vecGatherv {
				m.msg = fmt.Sprintf("rank %d sends %s, root %d expects %d (recv.Counts[%d])%s", i, elements(recs[i].mine), root, want, i, more(n-1, "ranks"))
			} else {
				m.msg = fmt.Sprintf("root %d sends %s to rank %d (send.Counts[%d]), rank %d expects %d (len(recv))%s", root, elements(want), i, i, i, recs[i].mine, more(n-1, "ranks"))
			}
			return m
		}
	case vecAllgatherv:
		if m.msg = alike("recv.Counts"); m.msg != "" {
			return m
		}
		for i := range p {
			if vecs[0][i] != recs[i].mine {
				m.msg = fmt.Sprintf("rank %d sends %s, every rank's recv.Counts[%d] = %d", i, elements(recs[i].mine), i, vecs[0][i])
				return m
			}
		}
	case vecReduceScatter:
		if m.msg = alike("send.Counts"); m.msg != "" {
			return m
		}
	case vecAlltoallv:
		var fi, fj, n int
		for i := range p {
			for j := range p {
				if vecs[i][j] != vecs[j][p+i] {
					if n == 0 {
						fi, fj = i, j
					}
					n++
				}
			}
		}
		if n > 0 {
			m.msg = fmt.Sprintf("rank %d sends %s to rank %d (send.Counts[%d]), rank %d expects %d (recv.Counts[%d])%s",
				fi, elements(vecs[fi][fj]), fj, fj, fj, vecs[fj][p+fi], fi, more(n-1, "pairs"))
			return m
		}
	}
	// The hashes differed and the vectors do not: cannot happen, but fail alike everywhere.
	m.msg = "the counts differ between ranks"
	return m
}
