// Command launchbench measures how long a job of a small program takes from launch to exit,
// under gompirun and under OpenMPI's mpirun, for a range of rank counts on this host. The
// program is scripts/launchbench/hello (Init, one Allreduce, a line from rank 0, Finalize),
// built twice: the default build for gompirun, and with -tags mpi for mpirun, so both run
// the same Go code and differ only in launcher and library underneath. For every rank count
// it runs the two launchers in turn for several rounds, alternating which goes first, checks
// every run's output, and prints a markdown table of the medians and their ratio, with the
// date, nproc, the load average and the exact commands. A run that fails is counted in its
// cell and the first failure of each cell is quoted under the table; the others go on. Run it from the repository:
//
//	go run ./scripts/launchbench                        # N = 1, 2, 4, ..., 256; 3 rounds
//	go run ./scripts/launchbench -n 1,32,256 -rounds 5
//	go run ./scripts/launchbench -no-mpi                # gompirun only
//	go run ./scripts/launchbench -gompirun-args=--transport,tcp
//
// mpirun runs with --oversubscribe (more ranks than cores) and, as root, with the variables
// OpenMPI asks for. The timings of a shared machine are noisy: compare medians and ratios.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "launchbench: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	ns        []int
	rounds    int
	noMPI     bool
	timeout   time.Duration
	extraArgs []string // more gompirun flags
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("launchbench", flag.ContinueOnError)
	ns := fs.String("n", "1,2,4,8,16,32,64,128,256", "rank counts, comma-separated")
	rounds := fs.Int("rounds", 3, "runs of each launcher per rank count (the median is printed)")
	noMPI := fs.Bool("no-mpi", false, "run gompirun only")
	timeout := fs.Duration("timeout", 3*time.Minute, "bound on one run")
	extra := fs.String("gompirun-args", "", "more gompirun flags, comma-separated (e.g. --transport,tcp)")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	o := options{rounds: *rounds, noMPI: *noMPI, timeout: *timeout}
	for _, f := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-n: %q is not a rank count", f)
		}
		o.ns = append(o.ns, n)
	}
	if o.rounds < 1 {
		return o, fmt.Errorf("-rounds %d: want at least 1", o.rounds)
	}
	if *extra != "" {
		o.extraArgs = strings.Split(*extra, ",")
	}
	return o, nil
}

// launcher is one way to start the program.
type launcher struct {
	name string
	cmd  func(n int) []string
	env  []string
}

func run(args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "launchbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	gr, hello, helloMPI := filepath.Join(dir, "gompirun"), filepath.Join(dir, "hello"), filepath.Join(dir, "hello-mpi")
	if err := build(gr, "./cmd/gompirun"); err != nil {
		return err
	}
	if err := build(hello, "./scripts/launchbench/hello"); err != nil {
		return err
	}
	ls := []launcher{{
		name: "gompirun",
		cmd: func(n int) []string {
			return slices.Concat([]string{gr}, o.extraArgs, []string{"-n", strconv.Itoa(n), hello})
		},
	}}
	if !o.noMPI {
		if _, err := exec.LookPath("mpirun"); err != nil {
			return errors.New("no mpirun on PATH (install openmpi-bin and libopenmpi-dev, or pass -no-mpi)")
		}
		if err := build(helloMPI, "./scripts/launchbench/hello", "-tags", "mpi"); err != nil {
			return err
		}
		ls = append(ls, launcher{
			name: "mpirun",
			cmd: func(n int) []string {
				return []string{"mpirun", "--oversubscribe", "-n", strconv.Itoa(n), helloMPI}
			},
			env: []string{"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"},
		})
	}

	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Fprintf(out, "%s, nproc %d, load average at start %s, %d rounds per cell, wall time of the whole launcher command\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), strings.Join(strings.Fields(string(load))[:3], " "), o.rounds)
	for _, l := range ls {
		fmt.Fprintf(out, "    %s%s\n", strings.Join(l.env, " ")+map[bool]string{true: " ", false: ""}[len(l.env) > 0],
			strings.ReplaceAll(strings.Join(l.cmd(0), " "), " -n 0 ", " -n N "))
	}
	fmt.Fprintln(out)

	times := make([][][]time.Duration, len(o.ns)) // [n][launcher][round], successful runs
	fails := make([][]int, len(o.ns))             // [n][launcher]
	var notes []string                            // the first failure of each cell
	for i, n := range o.ns {
		times[i] = make([][]time.Duration, len(ls))
		fails[i] = make([]int, len(ls))
		for r := range o.rounds {
			for k := range ls {
				j := (k + r) % len(ls) // alternate which launcher goes first
				d, err := timeOne(ls[j], n, o.timeout)
				if err != nil {
					// A failed run is counted and reported, and the others go on.
					fmt.Fprintf(os.Stderr, "launchbench: %s on %d ranks failed: %v\n", ls[j].name, n, err)
					if fails[i][j] == 0 {
						notes = append(notes, fmt.Sprintf("%s on %d ranks: %s", ls[j].name, n, firstLine(err)))
					}
					fails[i][j]++
					continue
				}
				times[i][j] = append(times[i][j], d)
			}
		}
		fmt.Fprintf(os.Stderr, "launchbench: %d ranks done\n", n)
	}

	fmt.Fprint(out, "| ranks |")
	for _, l := range ls {
		fmt.Fprintf(out, " %s (s) |", l.name)
	}
	if len(ls) == 2 {
		fmt.Fprint(out, " gompirun ÷ mpirun |")
	}
	fmt.Fprint(out, "\n| ---: |")
	for range ls {
		fmt.Fprint(out, " ---: |")
	}
	if len(ls) == 2 {
		fmt.Fprint(out, " ---: |")
	}
	fmt.Fprintln(out)
	for i, n := range o.ns {
		fmt.Fprintf(out, "| %d |", n)
		meds := make([]time.Duration, len(ls))
		for j := range ls {
			switch {
			case len(times[i][j]) == 0:
				fmt.Fprintf(out, " all %d failed |", fails[i][j])
				continue
			case fails[i][j] > 0:
				meds[j] = median(times[i][j])
				fmt.Fprintf(out, " %.3f (%d of %d failed) |", meds[j].Seconds(), fails[i][j], o.rounds)
			default:
				meds[j] = median(times[i][j])
				fmt.Fprintf(out, " %.3f |", meds[j].Seconds())
			}
		}
		if len(ls) == 2 {
			if meds[0] > 0 && meds[1] > 0 {
				fmt.Fprintf(out, " %.2f |", meds[0].Seconds()/meds[1].Seconds())
			} else {
				fmt.Fprint(out, " – |")
			}
		}
		fmt.Fprintln(out)
	}
	if len(notes) > 0 {
		fmt.Fprintln(out, "\nFailed runs (the first of each cell):")
		for _, n := range notes {
			fmt.Fprintf(out, "\n- %s", n)
		}
		fmt.Fprintln(out)
	}
	return nil
}

// firstLine is err's text up to its first line that says more than the command.
func firstLine(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	var keep []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "---") {
			keep = append(keep, l)
		}
		if len(keep) == 3 {
			break
		}
	}
	return strings.Join(keep, " / ")
}

func build(out, pkg string, flags ...string) error {
	args := slices.Concat([]string{"build"}, flags, []string{"-o", out, pkg})
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// timeOne runs l on n ranks once and checks rank 0's line, "n n(n-1)/2".
func timeOne(l launcher, n int, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	argv := l.cmd(n)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), l.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s: %w\n%s%s", strings.Join(argv, " "), err, stdout.Bytes(), stderr.Bytes())
	}
	if want := fmt.Sprintf("%d %d\n", n, n*(n-1)/2); stdout.String() != want {
		return 0, fmt.Errorf("%s printed %q, want %q (stderr %q)", strings.Join(argv, " "), stdout.String(), want, stderr.String())
	}
	return d, nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
