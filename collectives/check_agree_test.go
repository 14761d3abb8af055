package collectives

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/gompi/gompi/comm"
)

// celsius is a named number: the checker takes it for its underlying float64.
type celsius float64

// TestCheckAgreeingCalls: with the checker on, ranks that agree run every collective with the
// right results (a named float64 on rank 0 against float64 elsewhere counts as agreeing), and
// each call counts once in the communicator's sequence (the value collectives' inner calls
// do not).
func TestCheckAgreeingCalls(t *testing.T) {
	withDebug(t, "check", func() {
		cases := append([]struct {
			tr transportRunner
			p  int
		}{{ctxTransports[0], 1}}, checkCases...)
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s/p=%d", tc.tr.name, tc.p), func(t *testing.T) {
				err := runWithinLimit(tc.tr, tc.p, hangLimit, func(c *comm.Comm) error {
					calls, err := agreeingCalls(c)
					if err != nil || c.Size() == 1 {
						return err // on one rank nothing is exchanged, nothing counted
					}
					st := stateOf(c, false)
					if st == nil {
						return errors.New("no sequence number kept")
					}
					st.mu.Lock()
					seq := st.seq
					st.mu.Unlock()
					if seq != uint64(calls) {
						return fmt.Errorf("sequence number %d after %d calls", seq, calls)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// agreeingCalls runs every collective once on c, checks the results, and returns how many
// calls it made.
func agreeingCalls(c *comm.Comm) (int, error) {
	p, me := c.Size(), c.Rank()
	calls := 0
	step := func(name string, err error) error {
		calls++
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	expect := func(name string, got, want any) error {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("%s: got %v, want %v", name, got, want)
		}
		return nil
	}
	ranks := make([]int, p) // 0, 1, ..., p-1
	for i := range ranks {
		ranks[i] = i
	}
	tri := func(n int) int { return n * (n + 1) / 2 }
	var errs []error
	check := func(err error) { errs = append(errs, err) }

	check(step("Barrier", Barrier(c)))
	buf := []int{me, me}
	check(step("Bcast", Bcast(c, buf, p-1)))
	check(expect("Bcast", buf, []int{p - 1, p - 1}))
	sum := make([]float64, 3)
	check(step("Allreduce", Allreduce(c, fvec(me, 3), sum, Sum)))
	check(expect("Allreduce", sum, []float64{fsum(0, p, 0), fsum(0, p, 1), fsum(0, p, 2)}))
	if me == 0 { // a named float64 on one rank agrees with float64
		cs := make([]celsius, 1)
		check(step("Allreduce celsius", Allreduce(c, []celsius{1}, cs, Sum)))
		check(expect("Allreduce celsius", cs, []celsius{celsius(p)}))
	} else {
		fs := make([]float64, 1)
		check(step("Allreduce celsius", Allreduce(c, []float64{1}, fs, Sum)))
		check(expect("Allreduce celsius", fs, []float64{float64(p)}))
	}
	prod := make([]uint64, 2)
	check(step("Allreduce matOp", Allreduce(c, mvec(me, 2), prod, matOp)))
	check(expect("Allreduce matOp", prod, []uint64{mprod(0, p, 0), mprod(0, p, 1)}))
	var red []int
	if me == 0 {
		red = make([]int, 1)
	}
	check(step("Reduce", Reduce(c, []int{me + 1}, red, Sum, 0)))
	if me == 0 {
		check(expect("Reduce", red, []int{tri(p)}))
	}
	var all []int
	if me == 0 {
		all = make([]int, p)
	}
	check(step("Gather", Gather(c, []int{me}, all, 0)))
	if me == 0 {
		check(expect("Gather", all, ranks))
	}
	// Gatherv, Scatterv, Allgatherv: rank i's block has i+1 elements, all equal to i.
	vcounts := make([]int, p)
	var vall []int
	for i := range vcounts {
		vcounts[i] = i + 1
		for range i + 1 {
			vall = append(vall, i)
		}
	}
	mine := slices.Repeat([]int{me}, me+1)
	var gv Blocks[int]
	if me == 0 {
		gv = Packed(make([]int, len(vall)), vcounts)
	}
	check(step("Gatherv", Gatherv(c, mine, gv, 0)))
	if me == 0 {
		check(expect("Gatherv", gv.Buf, vall))
	}
	one := make([]int, 1)
	var sendAll []int
	if me == 0 {
		sendAll = ranks
	}
	check(step("Scatter", Scatter(c, sendAll, one, 0)))
	check(expect("Scatter", one, []int{me}))
	var sv Blocks[int]
	if me == 0 {
		sv = Packed(vall, vcounts)
	}
	got := make([]int, me+1)
	check(step("Scatterv", Scatterv(c, sv, got, 0)))
	check(expect("Scatterv", got, mine))
	ag := make([]int, p)
	check(step("Allgather", Allgather(c, []int{me}, ag)))
	check(expect("Allgather", ag, ranks))
	agv := Packed(make([]int, len(vall)), vcounts)
	check(step("Allgatherv", Allgatherv(c, mine, agv)))
	check(expect("Allgatherv", agv.Buf, vall))
	a2a := make([]int, p)
	send := make([]int, p)
	for j := range send {
		send[j] = me*100 + j
	}
	check(step("Alltoall", Alltoall(c, send, a2a)))
	want := make([]int, p)
	for i := range want {
		want[i] = i*100 + me
	}
	check(expect("Alltoall", a2a, want))
	// Alltoallv: rank i sends rank j i+1 elements (all i*100+j).
	var avs []int
	for j := range p {
		avs = append(avs, slices.Repeat([]int{me*100 + j}, me+1)...)
	}
	avr := Packed(make([]int, len(vall)), vcounts)
	check(step("Alltoallv", Alltoallv(c, Packed(avs, slices.Repeat([]int{me + 1}, p)), avr)))
	var avWant []int
	for i := range p {
		avWant = append(avWant, slices.Repeat([]int{i*100 + me}, i+1)...)
	}
	check(expect("Alltoallv", avr.Buf, avWant))
	rs := make([]int, me+1)
	rsSend := make([]int, len(vall))
	for i := range rsSend {
		rsSend[i] = 1
	}
	check(step("ReduceScatter", ReduceScatter(c, Packed(rsSend, vcounts), rs, Sum)))
	check(expect("ReduceScatter", rs, slices.Repeat([]int{p}, me+1)))
	sc := make([]int, 1)
	check(step("Scan", Scan(c, []int{me + 1}, sc, Sum)))
	check(expect("Scan", sc, []int{tri(me + 1)}))
	ex := []int{-1}
	check(step("Exscan", Exscan(c, []int{me + 1}, ex, Sum)))
	if me > 0 {
		check(expect("Exscan", ex, []int{tri(me)}))
	}
	s, err := BcastValue(c, fmt.Sprint("from ", me), 0)
	check(step("BcastValue", err))
	check(expect("BcastValue", s, "from 0"))
	var words []string
	if me == 0 {
		for i := range p {
			words = append(words, fmt.Sprint("to ", i))
		}
	}
	s, err = ScatterValue(c, words, 0)
	check(step("ScatterValue", err))
	check(expect("ScatterValue", s, fmt.Sprint("to ", me)))
	gvs, err := GatherValue(c, me, 0)
	check(step("GatherValue", err))
	if me == 0 {
		check(expect("GatherValue", gvs, ranks))
	}
	agvs, err := AllgatherValue(c, me)
	check(step("AllgatherValue", err))
	check(expect("AllgatherValue", agvs, ranks))
	cat := func(a, b string) string { return a + b }
	digit := fmt.Sprint(me)
	var digits string
	for i := range p {
		digits += fmt.Sprint(i)
	}
	s, err = AllreduceValue(c, digit, cat)
	check(step("AllreduceValue", err))
	check(expect("AllreduceValue", s, digits))
	s, err = ReduceValue(c, digit, cat, p-1)
	check(step("ReduceValue", err))
	if me == p-1 {
		check(expect("ReduceValue", s, digits))
	}
	s, err = ScanValue(c, digit, cat)
	check(step("ScanValue", err))
	check(expect("ScanValue", s, digits[:me+1]))
	return calls, errors.Join(errs...)
}

// TestCheckOff: without GOMPI_DEBUG=check the checker does nothing: the calls of
// agreeingCalls run, and no state (sequence number) is kept for the communicator.
func TestCheckOff(t *testing.T) {
	withDebug(t, "trace, nocheck", func() {
		for _, p := range []int{1, 3} {
			err := runRanksErr(p, func(c *comm.Comm) error {
				if _, err := agreeingCalls(c); err != nil {
					return err
				}
				if stateOf(c, false) != nil {
					return errors.New("the checker kept state for the communicator while off")
				}
				return nil
			})
			if err != nil {
				t.Errorf("p=%d: %v", p, err)
			}
		}
	})
}
