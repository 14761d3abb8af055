package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestConformanceProcesses runs the conformance suite (internal/ranktest) as real processes
// started by gompirun: over shared memory, with large payloads through the rings (the default)
// and copied once from the sender's memory (GOMPI_SHM_CMA=1), and over TCP (--transport tcp),
// on 1, 2, 3, 5 and 8 ranks (5 and 8 oversubscribe a 2-core machine).
func TestConformanceProcesses(t *testing.T) {
	t.Parallel()
	for _, v := range []struct {
		name  string
		flags []string
		says  string // what --verbose must report on 2 ranks
	}{
		{"shm", nil, "shm to ranks 1 (large messages through the rings)"},
		{"shm-cma", []string{"-x", "GOMPI_SHM_CMA=1"}, "shm to ranks 1 (single copy for large messages)"},
		{"tcp", []string{"--transport", "tcp"}, "tcp to ranks 1"},
	} {
		t.Run(v.name, func(t *testing.T) {
			for _, n := range []int{1, 2, 3, 5, 8} {
				args := append([]string{"-n", strconv.Itoa(n), "--tag-output", "--timeout", "50s"}, v.flags...)
				if n == 2 {
					args = append(args, "--verbose")
				}
				res := gompirun(t, "", append(args, rankTestBin, "-test.run", "TestConformance")...)
				if res.code != 0 {
					t.Errorf("%d ranks: exit code %d\nstdout:\n%s\nstderr:\n%s", n, res.code, res.stdout, res.stderr)
					continue
				}
				for r := range n {
					if !strings.Contains(res.stdout, fmt.Sprintf("[%d] PASS\n", r)) {
						t.Errorf("%d ranks: rank %d did not pass; stdout:\n%s", n, r, res.stdout)
					}
				}
				if n == 2 && !strings.Contains(res.stderr, "gompi: rank 0: placement: ") || n == 2 && !strings.Contains(res.stderr, v.says) {
					t.Errorf("2 ranks, --verbose: stderr %q does not report the placement and %q", res.stderr, v.says)
				}
			}
		})
	}
}

// shmFiles lists /dev/shm, where a segment left behind would show (gompi's are memory files
// without a name, so none should ever appear there). OpenMPI's segments (vader_segment.*,
// sm_segment.*) are left out: the OpenMPI tests of other packages may run at the same time.
func shmFiles(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/dev/shm")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "vader_segment.") && !strings.HasPrefix(e.Name(), "sm_segment.") {
			names = append(names, e.Name())
		}
	}
	return names
}

// Acceptance (shm issue) 3: SIGKILL to one of 8 ranks in an Allreduce loop on shared memory
// (and on TCP): the job ends within 5 s with 137, naming the rank, the survivors fail with a
// peer failure by themselves when they ignore SIGTERM, and nothing new is left in /dev/shm.
func TestRankKilledEightRanks(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "allreduce")
	for _, transport := range []string{"shm", "tcp"} {
		for _, ignore := range []bool{false, true} {
			name := transport
			args := []string{"-n", "8", "--transport", transport, "-x", "GOMPI_TEST_DIE_RANK=5", "-x", "GOMPI_TEST_DIE_AT=40"}
			if ignore {
				name += "/survivors-detect"
				args = append(args, "--grace", "30s", "-x", "GOMPI_TEST_IGNORE_TERM=1")
			}
			t.Run(name, func(t *testing.T) {
				before := shmFiles(t)
				res := gompirun(t, "", append(args, bin, "1000000000", "1000")...)
				if res.code != 137 {
					t.Fatalf("exit code %d, want 137; stderr %q", res.code, res.stderr)
				}
				if !strings.Contains(res.stderr, "rank 5 was killed by signal 9 (SIGKILL)") {
					t.Errorf("stderr %q does not name rank 5 and SIGKILL", res.stderr)
				}
				if res.elapsed > 5*time.Second {
					t.Errorf("job took %v, want at most 5 s", res.elapsed)
				}
				if ignore {
					for r := range 8 {
						if r != 5 && !strings.Contains(res.stderr, fmt.Sprintf("rank %d: peer failure: ", r)) {
							t.Errorf("rank %d did not end with a peer failure; stderr %q", r, res.stderr)
						}
					}
				}
				for _, f := range shmFiles(t) {
					if !slices.Contains(before, f) {
						t.Errorf("/dev/shm/%s appeared during the job", f)
					}
				}
			})
		}
	}
}

// --transport shm refuses a job with ranks on other hosts, before starting anything; an
// unknown transport is a usage error.
func TestTransportFlag(t *testing.T) {
	t.Parallel()
	res := gompirun(t, "", "-n", "2", "--transport", "shm", "--host", "localhost:1,otherhost:1", "/bin/true")
	if res.code != 2 || !strings.Contains(res.stderr, "--transport shm needs every rank on this host") {
		t.Errorf("--transport shm across hosts: exit %d, stderr %q; want 2 and an explanation", res.code, res.stderr)
	}
	res = gompirun(t, "", "-n", "2", "--transport", "udp", "/bin/true")
	if res.code != 2 || !strings.Contains(res.stderr, `unknown transport "udp"`) {
		t.Errorf("--transport udp: exit %d, stderr %q; want a usage error naming it", res.code, res.stderr)
	}
}
