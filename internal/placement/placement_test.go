package placement

import (
	"slices"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	cpus := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = 10 + i // masks need not start at 0
		}
		return s
	}
	spin := DefaultSpin
	over := Wait{Yield: DefaultYield}
	fits := Wait{Spin: DefaultSpin}
	d0 := time.Duration(0)
	d200 := 200 * time.Microsecond
	cases := []struct {
		name    string
		f       Facts
		peers   int // TCP peers, for TCPSpin
		bind    []int
		procs   int
		wait    Wait
		tcpSpin time.Duration
	}{
		{"2 ranks on 2 cpus", Facts{Allowed: cpus(2), CPUs: 2, LocalRank: 1, LocalSize: 2, Bind: true}, 1,
			[]int{11}, 1, fits, spin},
		{"2 ranks on 8 cpus", Facts{Allowed: cpus(8), CPUs: 8, LocalRank: 1, LocalSize: 2, Bind: true}, 1,
			[]int{14, 15, 16, 17}, 4, fits, spin},
		{"3 ranks on 8 cpus: the last 2 stay unused", Facts{Allowed: cpus(8), CPUs: 8, LocalRank: 2, LocalSize: 3, Bind: true}, 2,
			[]int{14, 15}, 2, fits, spin},
		{"4 ranks on 4 cpus: 3 TCP readers share 1 P", Facts{Allowed: cpus(4), CPUs: 4, LocalRank: 0, LocalSize: 4, Bind: true}, 3,
			[]int{10}, 1, fits, 0},
		{"oversubscribed: no binding, yield", Facts{Allowed: cpus(2), CPUs: 2, LocalRank: 3, LocalSize: 4, Bind: true}, 3,
			nil, 1, over, 0},
		{"bind none", Facts{Allowed: cpus(2), CPUs: 2, LocalRank: 0, LocalSize: 2, Bind: false}, 1,
			nil, 1, fits, spin},
		{"user GOMAXPROCS kept", Facts{Allowed: cpus(8), CPUs: 8, UserProcs: true, LocalRank: 0, LocalSize: 2, Bind: true}, 1,
			[]int{10, 11, 12, 13}, 0, fits, spin},
		{"cgroup quota of 2 on 8 cpus", Facts{Allowed: cpus(8), CPUs: 2, LocalRank: 1, LocalSize: 2, Bind: true}, 1,
			[]int{14, 15, 16, 17}, 1, fits, spin},
		{"one rank per host, many TCP peers", Facts{Allowed: cpus(4), CPUs: 4, LocalRank: 0, LocalSize: 1, Bind: true}, 5,
			nil, 0, fits, 0},
		{"one rank per host, few TCP peers", Facts{Allowed: cpus(4), CPUs: 4, LocalRank: 0, LocalSize: 1, Bind: true}, 3,
			nil, 0, fits, spin},
		{"singleton", Facts{Allowed: cpus(4), CPUs: 4, LocalRank: 0, LocalSize: 1, Bind: true}, 0,
			nil, 0, fits, 0},
		{"unknown mask", Facts{CPUs: 2, LocalRank: 0, LocalSize: 2, Bind: true}, 1,
			nil, 1, fits, spin},
		{"local rank missing", Facts{Allowed: cpus(2), CPUs: 2, LocalRank: -1, LocalSize: 2, Bind: true}, 1,
			nil, 1, fits, spin},
		{"GOMPI_SPIN_WAIT=0 fits", Facts{Allowed: cpus(2), CPUs: 2, LocalRank: 0, LocalSize: 2, Bind: true, SpinWait: &d0}, 1,
			[]int{10}, 1, Wait{}, 0},
		{"GOMPI_SPIN_WAIT=200us oversubscribed", Facts{Allowed: cpus(2), CPUs: 2, LocalRank: 0, LocalSize: 8, Bind: true, SpinWait: &d200}, 7,
			nil, 1, Wait{Yield: d200}, 0},
		{"GOMPI_WAIT=spin oversubscribed", Facts{Allowed: cpus(2), CPUs: 2, LocalRank: 0, LocalSize: 8, Bind: true, Wait: "spin"}, 7,
			nil, 1, Wait{Spin: DefaultSpin}, 0},
		{"GOMPI_WAIT=park", Facts{Allowed: cpus(2), CPUs: 2, LocalRank: 0, LocalSize: 2, Bind: true, Wait: "park"}, 1,
			[]int{10}, 1, Wait{}, 0},
		{"GOMPI_WAIT=yield with a core each", Facts{Allowed: cpus(2), CPUs: 2, LocalRank: 0, LocalSize: 2, Bind: true, Wait: "yield"}, 1,
			[]int{10}, 1, Wait{Yield: DefaultYield}, spin},
	}
	for _, tc := range cases {
		p := Decide(tc.f)
		if !slices.Equal(p.Bind, tc.bind) || p.Procs != tc.procs || p.Wait != tc.wait {
			t.Errorf("%s: Decide = bind %v procs %d wait %+v; want bind %v procs %d wait %+v",
				tc.name, p.Bind, p.Procs, p.Wait, tc.bind, tc.procs, tc.wait)
		}
		if got := p.TCPSpin(tc.peers); got != tc.tcpSpin {
			t.Errorf("%s: TCPSpin(%d) = %v, want %v", tc.name, tc.peers, got, tc.tcpSpin)
		}
	}
}

func TestWaitString(t *testing.T) {
	for _, tc := range []struct {
		w    Wait
		want string
	}{
		{Wait{}, "park"},
		{Wait{Spin: 50 * time.Microsecond}, "spin 50µs, then park"},
		{Wait{Yield: 2 * time.Millisecond}, "yield 2ms, then park"},
	} {
		if got := tc.w.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.w, got, tc.want)
		}
	}
}
