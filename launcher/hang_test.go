package launcher

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gompi/gompi/internal/waits"
)

// TestWaitCycles finds each cycle of a wait-for graph once, from its lowest rank.
func TestWaitCycles(t *testing.T) {
	for _, tc := range []struct {
		g    map[int][]int
		want string
	}{
		{map[int][]int{0: {1}, 1: {0}, 2: {1}}, "[[0 1]]"},
		{map[int][]int{0: {1}, 1: {2}, 2: {0}}, "[[0 1 2]]"},
		{map[int][]int{0: {1}, 1: {2}}, "[]"},
		{map[int][]int{0: {1}, 1: {0}, 2: {3}, 3: {2}}, "[[0 1] [2 3]]"},
		{map[int][]int{}, "[]"},
	} {
		if got := fmt.Sprint(waitCycles(tc.g)); got != tc.want {
			t.Errorf("waitCycles(%v) = %s, want %s", tc.g, got, tc.want)
		}
	}
}

// TestHangLines formats the ranks' answers: a line per rank (an answer, no answer, unable to
// answer), the cycle, and the rank most waited for.
func TestHangLines(t *testing.T) {
	now := time.Now()
	procs := func(ranks ...int) []*proc {
		var ps []*proc
		for _, r := range ranks {
			ps = append(ps, &proc{slot: Slot{Rank: r, Local: true}})
		}
		return ps
	}
	reports := map[int]waits.Report{
		0: {Rank: 0, Time: now, Waits: []waits.Wait{{Op: "Recv", Peer: 1, Tag: 99, Bytes: 32, Comm: "world", From: -2, Since: now.Add(-3 * time.Second)}}},
		1: {Rank: 1, Time: now, Waits: []waits.Wait{{Op: "Send", Send: true, Peer: 0, Tag: 5, Bytes: 1 << 20, Comm: "world", From: -2, Since: now.Add(-2 * time.Second)}}},
		2: {Rank: 2, Time: now, Waits: []waits.Wait{{Op: "Sendrecv", Send: true, Peer: 0, From: 1, Comm: "world (collectives)", Internal: true,
			Since: now.Add(-time.Second), Collective: "Allreduce", CollSince: now.Add(-time.Second)}}},
		4: {Rank: 4, Time: now},
	}
	got := strings.Join(hangLines("after the 3s timeout", procs(0, 1, 2, 3, 4), procs(5), reports), "\n")
	want := strings.Join([]string{
		"what the ranks wait for, after the 3s timeout:",
		"  rank 0  Recv(from rank 1, tag 99, 32 B) on world for 3.0 s",
		"  rank 1  Send(to rank 0, tag 5, 1048576 B) on world for 2.0 s",
		"  rank 2  in Allreduce on world, waiting for 1.0 s; Sendrecv(to rank 0, from rank 1) on world (collectives) for 1.0 s",
		"  rank 3  no answer within 1s (busy, or stopped)",
		"  rank 4  not waiting for a message (computing, or in a call that has not parked)",
		"  rank 5  cannot answer (not a gompi program, a remote rank, or the OpenMPI backend)",
		"a cycle: ranks 0, 1 wait for each other (0 → 1 → 0)",
		"rank 0 is waited for by 2 ranks (1, 2)",
		"rank 1 is waited for by 2 ranks (0, 2)",
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestFailureLineAfterOutput: the line naming a failed rank comes after that rank's last
// output (its error message), however the two race: gompirun waits for the output to end
// before it names the failure.
func TestFailureLineAfterOutput(t *testing.T) {
	for i := range 10 {
		_, _, errOut := runScript(t, 2, `if [ "$GOMPI_RANK" = 1 ]; then printf 'first\nlast words\n' >&2; exit 3; fi; sleep 5`, Config{})
		lw := strings.Index(errOut, "last words")
		fl := strings.Index(errOut, "gompirun: rank 1 exited with status 3")
		if lw < 0 || fl < 0 || fl < lw {
			t.Fatalf("run %d: the failure line does not follow the rank's output:\n%s", i, errOut)
		}
	}
}
