package launcher

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The binary is named after the directory the path stands for, whatever its spelling, and
// the name is always one path element, so it stays inside buildProgram's temporary directory.
func TestBinaryName(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	here, parent := filepath.Base(wd), filepath.Base(filepath.Dir(wd))
	cases := []struct{ dir, want string }{
		{".", here},
		{"./", here},
		{"..", parent},
		{"../", parent},
		{"../" + here + "/..", parent},
		{"/home/user/hello", "hello"},
		{"/home/user/hello/", "hello"},
		{"examples/sendrecv/", "sendrecv"},
		{"./examples/sendrecv", "sendrecv"},
		{"/", "prog"},
	}
	for _, tc := range cases {
		if got := binaryName(tc.dir); got != tc.want {
			t.Errorf("binaryName(%q) = %q, want %q (working directory %s)", tc.dir, got, tc.want, wd)
		}
	}
}

// writeModule writes a module with a main package printing "hello from GOMPI_RANK" into
// dir/NAME, and an empty subdirectory sub; it returns the package directory.
func writeModule(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":  "module example.com/" + name + "\n\ngo 1.26\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() { fmt.Println(\"hello from\", os.Getenv(\"GOMPI_RANK\")) }\n",
	}
	for f, text := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// buildProgram on ".", "./", ".." and an absolute path with a trailing slash: the binary is
// an executable file named after the package directory, inside its own temporary directory,
// which cleanup removes. Before the fix, "." built into the temporary directory itself and
// ".." into its parent, and the job tried to execute a directory (permission denied).
func TestBuildProgramRelativeDirs(t *testing.T) {
	dir := writeModule(t, "hello")
	t.Setenv("GOWORK", "off") // a go.work above the temporary directory must not interfere
	cases := []struct{ wd, prog string }{
		{dir, "."},
		{dir, "./"},
		{filepath.Join(dir, "sub"), ".."},
		{filepath.Join(dir, "sub"), "../sub/.."},
		{t.TempDir(), dir + "/"},
	}
	for _, tc := range cases {
		t.Chdir(tc.wd)
		if !isPackageDir(tc.prog) {
			t.Fatalf("isPackageDir(%q) in %s = false", tc.prog, tc.wd)
		}
		bin, cleanup, err := buildProgram(tc.prog, nil)
		if err != nil {
			t.Fatalf("buildProgram(%q) in %s: %v", tc.prog, tc.wd, err)
		}
		tmp := filepath.Dir(bin)
		if filepath.Base(bin) != "hello" || !strings.HasPrefix(filepath.Base(tmp), "gompirun-build-") {
			cleanup()
			t.Fatalf("buildProgram(%q) in %s = %s, want gompirun-build-*/hello", tc.prog, tc.wd, bin)
		}
		if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
			cleanup()
			t.Fatalf("buildProgram(%q) in %s: %s is not an executable file (%v, %v)", tc.prog, tc.wd, bin, fi.Mode(), err)
		}
		out, err := exec.Command(bin).CombinedOutput()
		if err != nil || string(out) != "hello from \n" {
			t.Errorf("buildProgram(%q) in %s: running the binary: %v, output %q", tc.prog, tc.wd, err, out)
		}
		cleanup()
		if _, err := os.Stat(tmp); !os.IsNotExist(err) {
			t.Errorf("buildProgram(%q) in %s: cleanup left %s (%v)", tc.prog, tc.wd, tmp, err)
		}
	}
}

// Run with PROGRAM "." builds the package in the working directory and runs it on every rank:
// what `gompirun -n 2 .` does.
func TestRunPackageDot(t *testing.T) {
	dir := writeModule(t, "hello")
	t.Setenv("GOWORK", "off")
	t.Chdir(dir)
	var out, errb syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, Config{NP: 2, Program: ".", Stdout: &out, Stderr: &errb})
	if err != nil {
		t.Fatalf("Run(\".\"): %v (stderr %q)", err, errb.String())
	}
	if res.ExitCode != ExitOK {
		t.Fatalf("Run(\".\"): exit code %d (%s), stderr %q", res.ExitCode, res.Reason, errb.String())
	}
	if got, want := sortedLines(out.String()), []string{"hello from 0", "hello from 1"}; !slicesEqual(got, want) {
		t.Errorf("output %q, want %q", got, want)
	}
}
