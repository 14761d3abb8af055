// Package slurmtest runs gompi programs under other launchers, as a user would: a real
// Slurm's srun (with and without PMI) and OpenMPI's mpirun. Its tests (default build) and
// those of package mpi (-tags mpi) use the helpers here. Every test skips, loudly, when the
// launcher is missing: sinfo finds no usable node (scripts/slurm-up.sh starts a one-node
// Slurm), or mpirun is not installed.
package slurmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// JobTimeout bounds one srun or mpirun job: a guard against a hang, so that one fails the test
// instead of blocking CI. The jobs here take about a second.
const JobTimeout = 3 * time.Minute

// NeedSlurm skips t unless sinfo lists a node that can run a job now (idle, mixed or
// allocated: the test partition oversubscribes). With GOMPI_REQUIRE_SLURM=1 in the
// environment (.ci/run sets it once it has started Slurm) it fails t instead of skipping.
func NeedSlurm(t testing.TB) {
	t.Helper()
	skip := t.Skip
	skipf := t.Skipf
	if os.Getenv("GOMPI_REQUIRE_SLURM") == "1" {
		skip, skipf = t.Fatal, t.Fatalf
	}
	if _, err := exec.LookPath("srun"); err != nil {
		skip("SKIP: no srun on PATH: Slurm is not installed (scripts/slurm-up.sh installs and starts a one-node Slurm)")
	}
	out, err := exec.Command("sinfo", "-h", "-o", "%t").CombinedOutput()
	if err != nil {
		skipf("SKIP: sinfo failed (%v: %s): no Slurm controller running (scripts/slurm-up.sh starts one)", err, bytes.TrimSpace(out))
	}
	for _, s := range strings.Fields(string(out)) {
		switch strings.TrimRight(s, "*~#") {
		case "idle", "mix", "alloc":
			return
		}
	}
	skipf("SKIP: sinfo finds no usable node (states: %q): Slurm is not ready (scripts/slurm-up.sh)", strings.TrimSpace(string(out)))
}

// NeedMpirun skips t unless OpenMPI's mpirun is on PATH.
func NeedMpirun(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("SKIP: no mpirun on PATH: OpenMPI is not installed (apt-get install openmpi-bin)")
	}
}

// Build builds the package at path (a directory, or an import path) with the given go build
// flags into a temporary directory and returns the binary.
func Build(t testing.TB, path string, flags ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), filepath.Base(path))
	args := append(append([]string{"build", "-o", bin}, flags...), path)
	if out, err := exec.Command(goCmd(), args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

func goCmd() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// Result is what a job left: its exit status and output.
type Result struct {
	Code           int // the launcher's exit status; -1 if it did not exit
	Stdout, Stderr string
}

// Run runs a launcher command line (srun ..., mpirun ...) with the environment of the test
// minus gompi's and other launchers' variables, plus env.
func Run(t testing.TB, env []string, name string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), JobTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Dir = t.TempDir()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errOut.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %s did not end within %v (a hang)\nstdout:\n%s\nstderr:\n%s", name, strings.Join(args, " "), JobTimeout, r.Stdout, r.Stderr)
	}
	return r
}

// cleanEnv is the process environment without gompi's variables and those of a launcher that
// may have started the tests (a CI job inside Slurm, mpirun).
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "GOMPI_"), strings.HasPrefix(k, "PMI_"), strings.HasPrefix(k, "PMIX_"),
			strings.HasPrefix(k, "OMPI_"), strings.HasPrefix(k, "SLURM_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
}

// Residual checks that stdout has exactly one line "max |y - A x| = R" (examples/matvec), with
// R at most 1e-12.
func Residual(stdout string) error {
	var lines []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "max |y - A x| = ") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		return fmt.Errorf("%d residual lines, want 1 (one job, not several):\n%s", len(lines), stdout)
	}
	r, err := strconv.ParseFloat(strings.TrimPrefix(lines[0], "max |y - A x| = "), 64)
	if err != nil || r > 1e-12 {
		return fmt.Errorf("residual line %q: want a number at most 1e-12", lines[0])
	}
	return nil
}

// Count returns how many lines of s are exactly line.
func Count(s, line string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if l == line {
			n++
		}
	}
	return n
}
