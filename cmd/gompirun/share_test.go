package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// allowedCPUs returns the CPUs this process may run on, which the ranks it starts inherit.
func allowedCPUs(t *testing.T) []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Skipf("no CPU affinity here: %v", err)
	}
	// Setting the same mask again changes nothing, and shows whether binding is allowed here.
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		t.Skipf("binding to CPUs is not allowed here: %v", err)
	}
	var cpus []int
	for cpu := 0; cpu < 1<<12 && len(cpus) < set.Count(); cpu++ {
		if set.IsSet(cpu) {
			cpus = append(cpus, cpu)
		}
	}
	return cpus
}

// shares runs the share test rank with args and returns each rank's "procs P cpus ..." line.
func shares(t *testing.T, bin string, np int, flags ...string) map[int]string {
	t.Helper()
	res := gompirun(t, "", append(append([]string{"-n", strconv.Itoa(np)}, flags...), bin)...)
	if res.code != 0 {
		t.Fatalf("exit code %d; stderr %q", res.code, res.stderr)
	}
	got := map[int]string{}
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var r int
		var rest string
		if i := strings.Index(line, " procs "); i > 0 {
			r, _ = strconv.Atoi(strings.TrimPrefix(line[:i], "rank "))
			rest = line[i+1:]
		}
		got[r] = rest
	}
	if len(got) != np {
		t.Fatalf("want a line from each of %d ranks, got %q", np, res.stdout)
	}
	return got
}

func joinCPUs(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// TestBindToCore: ranks that fit the host's CPUs each get a block of their own and a GOMAXPROCS
// of its size, like mpirun's default binding; --bind-to none and more ranks than CPUs leave the
// affinity alone, and a GOMAXPROCS the user passes is kept.
func TestBindToCore(t *testing.T) {
	if os.Getenv("GOMAXPROCS") != "" {
		t.Skip("GOMAXPROCS is set in the test's environment, and the ranks inherit it")
	}
	t.Parallel()
	cpus := allowedCPUs(t)
	procs := runtime.GOMAXPROCS(0) // Go's default: the mask, or a lower cgroup quota
	bin := buildTestdata(t, "share")
	all := joinCPUs(cpus)

	if len(cpus) >= 2 {
		got := shares(t, bin, 2)
		k := len(cpus) / 2
		for r := range 2 {
			want := fmt.Sprintf("procs %d cpus %s", max(1, procs/2), joinCPUs(cpus[r*k:(r+1)*k]))
			if got[r] != want {
				t.Errorf("-n 2: rank %d has %q, want %q", r, got[r], want)
			}
		}
	}
	if over := len(cpus) + 1; over <= 17 {
		got := shares(t, bin, over)
		for r := range over {
			if want := fmt.Sprintf("procs %d cpus %s", max(1, procs/over), all); got[r] != want {
				t.Errorf("-n %d (more ranks than CPUs): rank %d has %q, want %q", over, r, got[r], want)
			}
		}
	} else {
		t.Logf("%d CPUs: not starting %d ranks to oversubscribe them", len(cpus), over)
	}
	got := shares(t, bin, 2, "--bind-to", "none", "-x", "GOMAXPROCS=3")
	for r := range 2 {
		if want := "procs 3 cpus " + all; got[r] != want {
			t.Errorf("--bind-to none -x GOMAXPROCS=3: rank %d has %q, want %q", r, got[r], want)
		}
	}
	res := gompirun(t, "", "-n", "2", "--bind-to", "socket", bin)
	if res.code != 2 || !strings.Contains(res.stderr, "socket") {
		t.Errorf("--bind-to socket: exit %d, stderr %q; want a usage error (2) naming the value", res.code, res.stderr)
	}
}
