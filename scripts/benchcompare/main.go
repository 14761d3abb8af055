// Command benchcompare compares gompi with OpenMPI on this machine: it builds gompirun,
// gompi-bench and gompi-bench's C twin (cmd/gompi-bench/testdata/gompi-bench.c, with mpicc -O2),
// runs each benchmark under four configurations,
//
//	gompi         gompirun -n N gompi-bench BENCH                    (gompirun's default transport)
//	gompi TCP     gompirun --transport tcp -n N gompi-bench BENCH
//	OpenMPI shm   mpirun --oversubscribe -n N gompi-bench-c BENCH    (OpenMPI's defaults: vader)
//	OpenMPI TCP   mpirun --oversubscribe -n N --mca btl tcp,self gompi-bench-c BENCH
//
// for several rounds, each round running every configuration once per benchmark and rotating
// their order from round to round, and prints one markdown table per benchmark with the median
// of each size and the ratios gompi ÷ OpenMPI shm and gompi TCP ÷ OpenMPI TCP. It prints the
// date, nproc and the exact commands it ran, so that docs can quote them. Run it from the
// repository:
//
//	go run ./scripts/benchcompare                                  # every benchmark, 5 rounds
//	go run ./scripts/benchcompare -bench latency,bw -sizes 1,65472,65600
//	go run ./scripts/benchcompare -np 4 -bench allreduce,barrier -cpu
//	go run ./scripts/benchcompare -quick                           # check that everything runs
//	go run ./scripts/benchcompare -np 4 -bench allreduce -variants GOMPI_COLL_ALLREDUCE=ring,GOMPI_COLL_ALLREDUCE=recursive-doubling
//
// latency, bw and bibw always run on 2 ranks; -np sets the ranks of the collectives. -cpu adds
// each job's total CPU time (user + system of the launcher and every rank, from the wait
// status of the launcher, which waits for its ranks) and its wall-clock time. -quick runs one
// round at 2 iterations and sizes up to 64 KiB: the numbers mean nothing, but every benchmark,
// configuration and data check runs (for CI).
//
// Two facts to keep in mind when reading the tables: OpenMPI's TCP eager limit
// (btl_tcp_eager_limit) is 64 KiB including its own header, so a 64 KiB message is already a
// rendezvous there while gompi sends it eagerly (compare at -sizes 65472,65600); and timings on
// a shared 2-core machine are noisy, so compare medians and ratios, not single runs.
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
	"sort"
	"strconv"
	"strings"
	"time"
)

// allBenchmarks are gompi-bench's benchmarks, in its order.
var allBenchmarks = []string{"latency", "bw", "bibw", "allreduce", "bcast", "reduce", "allgather", "alltoall", "barrier"}

// pointToPoint reports whether bench uses ranks 0 and 1 only.
func pointToPoint(bench string) bool { return bench == "latency" || bench == "bw" || bench == "bibw" }

// options are the command-line flags.
type options struct {
	rounds     int
	np         int
	benches    []string
	sizes      string
	iterations int
	warmup     int
	cpu        bool
	quick      bool
	dir        string
	timeout    time.Duration
	variants   []string // extra environments for gompi (e.g. GOMPI_COLL_ALLREDUCE=ring)
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "benchcompare: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("benchcompare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.rounds, "rounds", 5, "rounds; each runs every benchmark once per configuration")
	fs.IntVar(&o.np, "np", 2, "ranks for the collectives (latency, bw and bibw always use 2)")
	bench := fs.String("bench", strings.Join(allBenchmarks, ","), "comma-separated benchmarks")
	fs.StringVar(&o.sizes, "sizes", "", "sizes in bytes, passed to gompi-bench --sizes (default: its own, 1 B .. 4 MiB)")
	fs.IntVar(&o.iterations, "iterations", 0, "timed iterations at every size, passed to --iterations (default: OSU's)")
	fs.IntVar(&o.warmup, "warmup", -1, "warm-up iterations at every size, passed to --warmup (default: OSU's)")
	fs.BoolVar(&o.cpu, "cpu", false, "also report each job's total CPU time (user+sys) and wall-clock time")
	fs.BoolVar(&o.quick, "quick", false, "check mode: 1 round, 2 iterations, sizes up to 64 KiB")
	fs.StringVar(&o.dir, "dir", "", "build into this directory and keep it (default: a temporary one, removed)")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "stop a job that runs longer than this")
	variants := fs.String("variants", "", "extra gompi configurations, separated by commas, each an environment setting "+
		"(spaces separate several), run on both gompi transports: e.g. GOMPI_COLL_ALLREDUCE=ring,GOMPI_COLL_ALLREDUCE=recursive-doubling")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, v := range strings.Split(*variants, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		for _, kv := range strings.Fields(v) {
			if !strings.Contains(kv, "=") {
				return o, fmt.Errorf("-variants: %q is not NAME=VALUE", kv)
			}
		}
		o.variants = append(o.variants, v)
	}
	for _, b := range strings.Split(*bench, ",") {
		if !slices.Contains(allBenchmarks, b) {
			return o, fmt.Errorf("-bench: unknown benchmark %q (want some of %s)", b, strings.Join(allBenchmarks, ","))
		}
		o.benches = append(o.benches, b)
	}
	if o.quick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["rounds"] {
			o.rounds = 1
		}
		if !set["iterations"] {
			o.iterations = 2
		}
		if !set["warmup"] {
			o.warmup = 1
		}
	}
	if o.rounds < 1 || o.np < 1 {
		return o, fmt.Errorf("-rounds %d, -np %d: want at least 1", o.rounds, o.np)
	}
	return o, nil
}

// configuration is one way of running a benchmark.
type configuration struct {
	name    string
	command func(np int, args []string) []string
	mpi     bool     // runs under mpirun (needs OMPI_ALLOW_RUN_AS_ROOT as root)
	env     []string // extra environment (a -variants configuration)
}

// job is one benchmark run: its command and, once run, its table and resource use.
type job struct {
	bench  string
	config int
	argv   []string
	values map[string]float64 // by size ("" for barrier)
	cpu    time.Duration
	wall   time.Duration
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "benchcompare-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	gompirun, bench, benchC := filepath.Join(dir, "gompirun"), filepath.Join(dir, "gompi-bench"), filepath.Join(dir, "gompi-bench-c")
	builds := [][]string{
		{"go", "build", "-o", gompirun, "./cmd/gompirun"},
		{"go", "build", "-o", bench, "./cmd/gompi-bench"},
		{"mpicc", "-O2", "-o", benchC, "cmd/gompi-bench/testdata/gompi-bench.c"},
	}
	for _, b := range builds {
		cmd := exec.Command(b[0], b[1:]...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(b, " "), err, out)
		}
	}
	configs := []configuration{
		{name: "gompi", command: func(np int, a []string) []string {
			return append([]string{gompirun, "-n", strconv.Itoa(np), bench}, a...)
		}},
		{name: "gompi TCP", command: func(np int, a []string) []string {
			return append([]string{gompirun, "--transport", "tcp", "-n", strconv.Itoa(np), bench}, a...)
		}},
		{name: "OpenMPI shm", mpi: true, command: func(np int, a []string) []string {
			return append([]string{"mpirun", "--oversubscribe", "-n", strconv.Itoa(np), benchC}, a...)
		}},
		{name: "OpenMPI TCP", mpi: true, command: func(np int, a []string) []string {
			return append([]string{"mpirun", "--oversubscribe", "-n", strconv.Itoa(np), "--mca", "btl", "tcp,self", benchC}, a...)
		}},
	}
	for _, v := range o.variants {
		env := strings.Fields(v)
		configs = append(configs,
			configuration{name: "gompi " + v, env: env, command: configs[0].command},
			configuration{name: "gompi TCP " + v, env: env, command: configs[1].command})
	}
	mpiEnv := []string{}
	if os.Geteuid() == 0 {
		mpiEnv = []string{"OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"}
	}

	// The jobs of one round: every benchmark under every configuration.
	var plan []job
	for _, b := range o.benches {
		a := []string{b}
		if b != "barrier" {
			switch {
			case o.sizes != "":
				a = append(a, "--sizes", o.sizes)
			case o.quick:
				a = append(a, "--max", "64K")
			}
		}
		if o.iterations > 0 {
			a = append(a, "--iterations", strconv.Itoa(o.iterations))
		}
		if o.warmup >= 0 {
			a = append(a, "--warmup", strconv.Itoa(o.warmup))
		}
		np := o.np
		if pointToPoint(b) {
			np = 2
		}
		for i, c := range configs {
			plan = append(plan, job{bench: b, config: i, argv: c.command(np, a)})
		}
	}

	fmt.Fprintf(stderr, "benchcompare: %d rounds of %d jobs\n", o.rounds, len(plan))
	var done []job
	for r := range o.rounds {
		for bi := range o.benches {
			for k := range configs {
				// Rotate the configurations' order from round to round.
				j := plan[bi*len(configs)+(k+r)%len(configs)]
				env := configs[j.config].env
				if configs[j.config].mpi {
					env = mpiEnv
				}
				fmt.Fprintf(stderr, "round %d/%d: %s%s\n", r+1, o.rounds, envPrefix(configs[j.config].env), strings.Join(j.argv, " "))
				if err := runJob(&j, env, o.timeout); err != nil {
					return err
				}
				done = append(done, j)
			}
		}
	}

	printReport(stdout, o, root, builds, plan, configs, mpiEnv, done)
	return nil
}

// runJob runs j with extra environment env, parses its table and records its resource use.
func runJob(j *job, env []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, j.argv[0], j.argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 10 * time.Second
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	j.wall = time.Since(start)
	if err != nil {
		return fmt.Errorf("%s: %w\n%s%s", strings.Join(j.argv, " "), err, out.Bytes(), errOut.Bytes())
	}
	j.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	values, err := parseTable(out.String())
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(j.argv, " "), err, out.Bytes())
	}
	j.values = values
	return nil
}

// parseTable reads gompi-bench's (or its C twin's) output: comment lines start with '#', every
// other non-empty line is "SIZE VALUE ..." or, for barrier, "VALUE ...".
func parseTable(out string) (map[string]float64, error) {
	values := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		size, val := "", f[0]
		if !strings.Contains(f[0], ".") { // a size: whole bytes; values have two decimals
			if len(f) < 2 {
				return nil, fmt.Errorf("line %q: no value", line)
			}
			size, val = f[0], f[1]
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		values[size] = v
	}
	if len(values) == 0 {
		return nil, errors.New("no results in the output")
	}
	return values, nil
}

// median returns the median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// unit describes a benchmark's values for the table title.
func unit(bench string) string {
	switch bench {
	case "latency":
		return "one-way latency, µs, lower is better"
	case "bw", "bibw":
		return "bandwidth, MB/s (10⁶ B/s), higher is better"
	}
	return "time per call, µs (mean over ranks), lower is better"
}

func printReport(w io.Writer, o options, root string, builds [][]string, plan []job, configs []configuration, mpiEnv []string, done []job) {
	fmt.Fprintf(w, "# gompi-bench: gompi against OpenMPI\n\n")
	fmt.Fprintf(w, "- Date: %s\n", time.Now().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- Machine: nproc = %s, %s/%s, %s, %s\n", nproc(), runtime.GOOS, runtime.GOARCH, runtime.Version(), firstLine("mpirun", "--version"))
	fmt.Fprintf(w, "- Medians of %d round(s); each round runs every benchmark once under every configuration, their order rotating from round to round.\n", o.rounds)
	if o.quick {
		fmt.Fprintf(w, "- **Check mode (-quick): %d iterations per size; the numbers mean nothing.**\n", o.iterations)
	}
	fmt.Fprintf(w, "- Timings on a shared machine are noisy (the development box has 2 cores, and ranks beyond them oversubscribe): compare medians and ratios, not single runs.\n")
	fmt.Fprintf(w, "- \"gompi\" is gompirun with its default transport, \"gompi TCP\" forces `--transport tcp`; OpenMPI shm is OpenMPI's default (vader), OpenMPI TCP `--mca btl tcp,self`.\n")
	fmt.Fprintf(w, "- OpenMPI's TCP eager limit is 64 KiB including its header, so a 64 KiB message is already a rendezvous there while gompi sends it eagerly: compare at `-sizes 65472,65600`.\n")
	fmt.Fprintf(w, "- Ratios above 1 mean gompi takes longer (latency, time per call) or moves more (bandwidth).\n\n")

	fmt.Fprintf(w, "Commands (in %s):\n\n```sh\n", root)
	for _, b := range builds {
		fmt.Fprintf(w, "%s\n", strings.Join(b, " "))
	}
	if len(mpiEnv) > 0 {
		fmt.Fprintf(w, "export %s\n", strings.Join(mpiEnv, " "))
	}
	for _, j := range plan {
		fmt.Fprintf(w, "%s%s\n", envPrefix(configs[j.config].env), strings.Join(j.argv, " "))
	}
	fmt.Fprintf(w, "```\n")

	for _, b := range o.benches {
		var sizes []string
		vals := make([]map[string][]float64, len(configs))
		cpu, wall := make([][]float64, len(configs)), make([][]float64, len(configs))
		for i := range vals {
			vals[i] = map[string][]float64{}
		}
		np := o.np
		if pointToPoint(b) {
			np = 2
		}
		for _, j := range done {
			if j.bench != b {
				continue
			}
			for s, v := range j.values {
				if !slices.Contains(sizes, s) {
					sizes = append(sizes, s)
				}
				vals[j.config][s] = append(vals[j.config][s], v)
			}
			cpu[j.config] = append(cpu[j.config], j.cpu.Seconds())
			wall[j.config] = append(wall[j.config], j.wall.Seconds())
		}
		sort.Slice(sizes, func(a, c int) bool {
			x, _ := strconv.Atoi(sizes[a])
			y, _ := strconv.Atoi(sizes[c])
			return x < y
		})
		fmt.Fprintf(w, "\n### %s, %d ranks: %s\n\n", b, np, unit(b))
		fmt.Fprintf(w, "| size (B) |")
		for _, c := range configs {
			fmt.Fprintf(w, " %s |", c.name)
		}
		fmt.Fprintf(w, " gompi ÷ OpenMPI shm | gompi TCP ÷ OpenMPI TCP |\n|")
		for range len(configs) + 3 {
			fmt.Fprintf(w, " ---: |")
		}
		fmt.Fprintln(w)
		row := func(label string, med []float64, format string) {
			fmt.Fprintf(w, "| %s |", label)
			for _, m := range med {
				fmt.Fprintf(w, " "+format+" |", m)
			}
			fmt.Fprintf(w, " %s | %s |\n", ratio(med[0], med[2]), ratio(med[1], med[3]))
		}
		for _, s := range sizes {
			med := make([]float64, len(configs))
			for i := range configs {
				med[i] = median(vals[i][s])
			}
			label := s
			if s == "" {
				label = "–"
			}
			row(label, med, "%.2f")
		}
		if o.cpu {
			med := make([]float64, len(configs))
			for i := range configs {
				med[i] = median(cpu[i])
			}
			row("job CPU, s (user+sys, all processes)", med, "%.2f")
			for i := range configs {
				med[i] = median(wall[i])
			}
			row("job wall clock, s", med, "%.2f")
		}
	}
}

// envPrefix writes env before a command, as a shell would take it.
func envPrefix(env []string) string {
	if len(env) == 0 {
		return ""
	}
	return strings.Join(env, " ") + " "
}

func ratio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// nproc returns the output of nproc, or Go's CPU count if it cannot run.
func nproc() string {
	if out, err := exec.Command("nproc").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return strconv.Itoa(runtime.NumCPU())
}

// firstLine returns the first line of a command's output, or a note that it failed.
func firstLine(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return name + ": " + err.Error()
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// moduleRoot returns the directory of the gompi module that holds the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(data, []byte("module github.com/gompi/gompi\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run it from the gompi repository (no go.mod of github.com/gompi/gompi above the working directory)")
		}
		dir = parent
	}
}
