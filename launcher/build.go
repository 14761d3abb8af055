package launcher

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// isPackageDir reports whether path is a directory holding Go source files (other than
// tests): a PROGRAM that gompirun builds first, like go run.
func isPackageDir(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() {
		return false
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return false
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			return true
		}
	}
	return false
}

// goTool returns the go command: the one on PATH, else the one of the toolchain that built
// this binary.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// binaryName is the file name buildProgram gives the binary of the package in dir: the base
// name of dir as an absolute path, as go build names it, so that "." and ".." are named after
// the directory they stand for. It falls back to "prog" when that name is no file name (dir
// is "/", or the working directory is gone). The name is always a single path element:
// joined to the temporary directory it stays inside it (a name of "." or ".." would make
// go build write into the temporary directory itself, or next to it, and the job then tried
// to execute a directory).
func binaryName(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "prog"
	}
	name := filepath.Base(abs)
	if name == "." || name == ".." || name == string(filepath.Separator) {
		return "prog"
	}
	return name
}

// buildProgram builds the Go package in dir with `go build` (with -tags when tags is not
// empty) into a fresh temporary directory. It returns the binary's path and a function that
// removes the directory. The compiler's output is part of the error.
func buildProgram(dir string, tags []string) (string, func(), error) {
	tmp, err := os.MkdirTemp("", "gompirun-build-")
	if err != nil {
		return "", nil, fmt.Errorf("launcher: build %s: %w", dir, err)
	}
	cleanup := func() { os.RemoveAll(tmp) }
	bin := filepath.Join(tmp, binaryName(dir))
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, ".")
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("launcher: go build in %s: %w\n%s", dir, err, strings.TrimRight(string(out), "\n"))
	}
	return bin, cleanup, nil
}
