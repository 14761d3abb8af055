//go:build mpi

package mpi_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/mpi"
)

// The tests of this package run in two roles.
//
// Started by go test, the process is the launcher: it runs the whole test binary again under
// `mpirun -n K` for K = 1, 2, 3, 4 (GOMPI_MPI_TEST_SIZES overrides, e.g. "2,3"), passing its
// flags through, and fails if any of those jobs fails. Then it runs its own tests: those that
// need a world skip, the interoperability test (which starts its own MPMD job) runs.
//
// Started by mpirun, every rank initializes OpenMPI through comm.Init and runs every test; the
// tests communicate, so all ranks run them in the same order.

// world is the world communicator under mpirun, nil in the launcher.
var world *comm.Comm

// jobTimeout bounds one mpirun job of the whole suite, so that a hang fails instead of
// blocking CI.
const jobTimeout = 4 * time.Minute

func TestMain(m *testing.M) {
	if mpi.Launched() {
		os.Exit(runRank(m))
	}
	code := 0
	if !strings.Contains(strings.Join(os.Args, " "), "-test.list") {
		code = launchJobs()
	}
	if c := m.Run(); c != 0 {
		code = c
	}
	os.Exit(code)
}

func runRank(m *testing.M) int {
	c, err := comm.Init()
	if err != nil {
		fmt.Fprintf(os.Stderr, "comm.Init under mpirun: %v\n", err)
		return 1
	}
	world = c
	code := m.Run()
	if err := comm.Finalize(); err != nil {
		fmt.Fprintf(os.Stderr, "rank %d: Finalize: %v\n", c.Rank(), err)
		code = 1
	}
	if err := comm.Finalize(); err != nil {
		fmt.Fprintf(os.Stderr, "rank %d: second Finalize: %v\n", c.Rank(), err)
		code = 1
	}
	return code
}

// launchJobs runs the test binary under mpirun for each job size and reports failures.
func launchJobs() int {
	sizes := []string{"1", "2", "3", "4"}
	if s := os.Getenv("GOMPI_MPI_TEST_SIZES"); s != "" {
		sizes = strings.Split(s, ",")
	}
	code := 0
	for _, n := range sizes {
		fmt.Printf("=== mpirun -n %s %s\n", n, strings.Join(passThrough(os.Args[1:]), " "))
		if err := runJob(n); err != nil {
			fmt.Printf("--- FAIL: mpirun -n %s: %v\n", n, err)
			code = 1
		}
	}
	return code
}

func runJob(n string) error {
	ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
	defer cancel()
	args := mpirunArgs("-n", n, os.Args[0])
	args = append(args, passThrough(os.Args[1:])...)
	cmd := exec.CommandContext(ctx, "mpirun", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("timed out after %v: %w", jobTimeout, err)
	}
	return err
}

// mpirunArgs returns mpirun's options for a test job followed by args: oversubscription (CI has
// two cores) and, as root, permission to run as root.
func mpirunArgs(args ...string) []string {
	out := []string{"--oversubscribe"}
	if os.Geteuid() == 0 {
		out = append(out, "--allow-run-as-root")
	}
	return append(out, args...)
}

// passThrough drops the flags that name one output file (every rank would write it).
func passThrough(args []string) []string {
	var out []string
	for _, a := range args {
		skip := false
		for _, p := range []string{"-test.testlogfile", "-test.coverprofile", "-test.cpuprofile", "-test.memprofile",
			"-test.blockprofile", "-test.mutexprofile", "-test.trace", "-test.outputdir"} {
			if strings.HasPrefix(a, p+"=") {
				skip = true
			}
		}
		if !skip {
			out = append(out, a)
		}
	}
	return out
}

// needWorld returns the world communicator, skipping the test in the launcher.
func needWorld(t *testing.T) *comm.Comm {
	t.Helper()
	if world == nil {
		t.Skip("runs on every rank under mpirun (started by TestMain)")
	}
	return world
}
