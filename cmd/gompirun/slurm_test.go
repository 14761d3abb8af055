package main

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// slurmNode returns the name of an idle (or partly used) node of the Slurm running on this
// machine (scripts/slurm-up.sh starts one). Without one the test is skipped, loudly; with
// GOMPI_REQUIRE_SLURM=1 (set by .ci/run, which starts Slurm) it fails instead.
func slurmNode(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("sinfo", "-h", "-o", "%N %T").Output()
	if err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Fields(l); len(f) == 2 && (f[1] == "idle" || f[1] == "mixed") {
				return f[0]
			}
		}
	}
	msg := fmt.Sprintf("NO SLURM HERE: sinfo shows no idle node (%v, %q); start one with scripts/slurm-up.sh (root)", err, out)
	if os.Getenv("GOMPI_REQUIRE_SLURM") == "1" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPING the real-Slurm test: " + msg)
	return ""
}

// Acceptance 4 of issue 16 on a real Slurm: inside `salloc -n 4`, gompirun without -n runs
// the allocation's 4 tasks (not one rank per CPU: this machine has fewer), says so with
// --verbose, and starts the ranks of its own node directly.
func TestSlurmAllocation(t *testing.T) {
	node := slurmNode(t)
	res := runCmd(t, nil, "salloc", "-n", "4", "--overcommit", gompirunBin, "--verbose", meshBin)
	if res.code != 0 {
		t.Fatalf("salloc -n 4 gompirun mesh: exit code %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for r := range 4 {
		if want := fmt.Sprintf("rank %d/4 sum=6 host=127.0.0.1\n", r); !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	took := regexp.MustCompile(`gompirun: Slurm job \d+: 4 tasks on ` + regexp.QuoteMeta(node) + `:4 \(this node\)`)
	if !took.MatchString(res.stderr) {
		t.Errorf("--verbose does not say it took the allocation (want %s):\n%s", took, res.stderr)
	}
	if strings.Contains(res.stderr, "srun") {
		t.Errorf("ranks on gompirun's own node were started through srun:\n%s", res.stderr)
	}
}

// The srun launch agent on a real Slurm: with SLURMD_NODENAME naming another node, gompirun
// takes its own node for a remote one and starts every rank there with srun (one step each),
// passing arguments with spaces unchanged and the job secret on standard input; the ranks then
// run an Allreduce over the library's transports.
func TestSlurmSrunAgent(t *testing.T) {
	node := slurmNode(t)
	bin := buildTestdata(t, "allreduce")
	env := []string{"SLURMD_NODENAME=not-" + node}
	res := runCmd(t, env, "salloc", "-n", "3", "--overcommit", gompirunBin, "--verbose", "--tag-output", bin, "3", "1000")
	if res.code != 0 {
		t.Fatalf("salloc -n 3 gompirun (srun agent): exit code %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for r := range 3 {
		if want := fmt.Sprintf("[%d] rank %d/3 allreduce ok iters=3 host=", r, r); !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
		started := fmt.Sprintf("gompirun: rank %d on %s: pid ", r, node)
		if !strings.Contains(res.stderr, started) {
			t.Errorf("stderr lacks %q:\n%s", started, res.stderr)
		}
	}
	if n := strings.Count(res.stderr, "srun --overlap -N1 -n1 --export=ALL -w "+node+" env "); n != 3 {
		t.Errorf("%d ranks started with srun, want 3:\n%s", n, res.stderr)
	}
	// Words with spaces and quotes reach the program unchanged: no shell between srun and it.
	res = runCmd(t, env, "salloc", "-n", "2", "--overcommit", gompirunBin, "--tag-output", "/bin/sh", "-c", `printf '%s|' "$GOMPI_RANK" "$@"; echo`, "x", "a b", `it's "q"`)
	if res.code != 0 {
		t.Fatalf("salloc -n 2 gompirun sh (srun agent): exit code %d\nstderr:\n%s", res.code, res.stderr)
	}
	for r := range 2 {
		if want := fmt.Sprintf("[%d] %d|a b|it's \"q\"|\n", r, r); !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
}

// gompirun --mpi inside an allocation gives mpirun no -n: mpirun takes the allocation's tasks
// (3 here, more than this machine's CPUs).
func TestSlurmMPIPassThrough(t *testing.T) {
	slurmNode(t)
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("OpenMPI's mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
	}
	res := runCmd(t, nil, "salloc", "-n", "3", "--overcommit", gompirunBin, "--mpi", "--verbose", "--tag-output", "/bin/sh", "-c", "echo hello")
	if res.code != 0 {
		t.Fatalf("salloc -n 3 gompirun --mpi: exit code %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if n := strings.Count(res.stdout, "<stdout>:hello"); n != 3 {
		t.Errorf("%d ranks said hello, want 3:\n%s", n, res.stdout)
	}
	if regexp.MustCompile(`mpirun .* -n `).MatchString(res.stderr) {
		t.Errorf("mpirun was given -n:\n%s", res.stderr)
	}
}
