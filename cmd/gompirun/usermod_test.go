package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// readmeSection is the README section whose program TestUserModule builds.
const readmeSection = "## Using gompi in your own module"

// readmeProgram returns the Go program of the README's section on using gompi from one's own
// module, so that the test builds what the README shows.
func readmeProgram(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n"+readmeSection+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", readmeSection)
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	_, code, ok := strings.Cut(section, "\n```go\n")
	if !ok {
		t.Fatalf("README.md, section %q: no ```go block", readmeSection)
	}
	code, _, ok = strings.Cut(code, "\n```\n")
	if !ok {
		t.Fatalf("README.md, section %q: the ```go block does not end", readmeSection)
	}
	return code + "\n"
}

// offline matches what the go command says when it cannot reach the module proxy.
var offline = regexp.MustCompile(`dial tcp|no such host|connection refused|i/o timeout|TLS handshake timeout|network is unreachable|proxyconnect|GOPROXY=off`)

// TestUserModule uses gompi the way the README's section "Using gompi in your own module"
// does, from a throwaway module outside the repository: go.mod requiring gompi, the README's
// main.go, go mod tidy, go get -tool for gompirun, then go tool gompirun -n 2 ., and the
// gompirun built by TestMain on "." and "./" (which used to build into the temporary
// directory itself and fail with "permission denied").
//
// It differs from the README in one way: gompi is not downloaded but replaced by this checkout
// (its commit is not published). gompi's own dependencies come from the module proxy; without
// one the test is skipped. Every lookup of github.com/gompi/gompi itself is kept off the network
// (GONOPROXY sends it to its origin, GOVCS forbids the origin, so it is "not found" and the
// replacement answers): go get -tool asks for the latest version of each prefix of the tool's
// path, and a proxy that answers 403 instead of 404 for a module it does not have (as the one
// this test was written with does) would otherwise fail the command. GOWORK=off keeps a go.work
// above the temporary directory out of it.
func TestUserModule(t *testing.T) {
	t.Parallel()
	goBin := goCmd()
	if _, err := os.Stat(goBin); err != nil {
		t.Skipf("the go command is not found (not on PATH, not in GOROOT %s): %v", filepath.Dir(filepath.Dir(goBin)), err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !strings.HasPrefix(string(b), "module github.com/gompi/gompi\n") {
		t.Fatalf("%s is not the root of github.com/gompi/gompi: %v", root, err)
	}
	dir := filepath.Join(t.TempDir(), "throwaway")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod": "module example.com/throwaway\n\ngo 1.26\n\nrequire github.com/gompi/gompi v0.0.0\n\n" +
			"replace github.com/gompi/gompi => " + root + "\n",
		"main.go": readmeProgram(t, root),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOWORK=off", "GONOPROXY=github.com/gompi/gompi", "GOVCS=github.com/gompi/gompi:off")

	// run runs name with args in dir and returns its exit code, standard output and error.
	run := func(timeout time.Duration, name string, args ...string) (int, string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = dir, env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		t.Logf("%s %s: %v", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
		if ctx.Err() != nil {
			t.Fatalf("%s %q: killed after %v; stderr %q", name, args, timeout, errb.String())
		}
		code := 0
		if ee, ok := errors.AsType[*exec.ExitError](err); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s %q: %v", name, args, err)
		}
		return code, out.String(), errb.String()
	}

	if code, _, stderr := run(3*time.Minute, goBin, "mod", "tidy"); code != 0 {
		if offline.MatchString(stderr) {
			t.Skipf("the module proxy is unreachable: go mod tidy exited %d: %s", code, stderr)
		}
		t.Fatalf("go mod tidy exited %d: %s", code, stderr)
	}
	if code, _, stderr := run(3*time.Minute, goBin, "get", "-tool", "github.com/gompi/gompi/cmd/gompirun"); code != 0 {
		t.Fatalf("go get -tool github.com/gompi/gompi/cmd/gompirun exited %d: %s", code, stderr)
	}
	// What go get -tool must have written for go tool to work: the tool line, and the
	// go.sum lines of gompirun's own dependency.
	gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
	gosum, _ := os.ReadFile(filepath.Join(dir, "go.sum"))
	if !strings.Contains(string(gomod), "\ntool github.com/gompi/gompi/cmd/gompirun\n") {
		t.Errorf("go.mod after go get -tool has no tool line:\n%s", gomod)
	}
	if !strings.Contains("\n"+string(gosum), "\ngithub.com/urfave/cli/v2 ") {
		t.Errorf("go.sum after go get -tool has no line for github.com/urfave/cli/v2:\n%s", gosum)
	}

	want := []string{"rank 0 of 2: sum of ranks = 1", "rank 1 of 2: sum of ranks = 1"}
	for _, cmd := range [][]string{
		{goBin, "tool", "gompirun", "-n", "2", "."},
		{gompirunBin, "-n", "2", "."},
		{gompirunBin, "-n", "2", "./"},
	} {
		code, stdout, stderr := run(2*time.Minute, cmd[0], cmd[1:]...)
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		slices.Sort(lines)
		if code != 0 || !slices.Equal(lines, want) {
			t.Errorf("%s %q in the throwaway module: exit code %d, output %q, want 0 and the lines %q; stderr %q",
				filepath.Base(cmd[0]), cmd[1:], code, stdout, want, stderr)
		}
	}
}
