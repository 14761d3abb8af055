// Command gompirun starts a gompi job: N processes of one program, wired together through a
// bootstrap service, with their output forwarded line by line. It behaves like mpirun where
// users have habits (-n, --tag-output, -x, --host, --hostfile) and ends a job as a whole as
// soon as one rank fails (unless --keep-going). See docs/LAUNCHER.md for the full guide and
// the exit codes.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/gompi/gompi/launcher"
)

const usageText = `gompirun [options] PROGRAM [ARGS...]

PROGRAM is an executable or a Go package directory (built first, like go run). Everything
after PROGRAM goes to the program untouched.`

const description = `Examples:
   gompirun -n 4 ./examples/sendrecv        build the package, run 4 ranks
   gompirun -n 2 --tag-output ./prog -x 3   prefix lines with [rank]; "-x 3" goes to prog
   gompirun -n 8 --output-dir out ./prog    out/rank.N.stdout, out/rank.N.stderr
   gompirun -n 4 --timeout 30s ./prog       stop the job after 30 s (exit code 124)
   gompirun -n 4 --keep-going ./prog        a failed rank does not stop the others
   gompirun -x OMP_NUM_THREADS=1 -x HOME -n 2 ./prog
   gompirun --host node1:2,node2:2 ./prog   4 ranks, started with ssh
   gompirun --hostfile hosts --launch-agent "ssh -p 2222" ./prog
   gompirun --mpi -n 4 ./examples/matvec    build with -tags mpi, run under OpenMPI's mpirun
   salloc -n 8 gompirun ./prog              8 ranks on the allocation's nodes, remote ones through srun
   gompirun -n 4 --trace t.json --timeline t.png ./examples/psum
                                            record every operation: t.json for Perfetto, t.png to look at
   gompirun trace-merge t.json              merge the parts ranks wrote with GOMPI_TRACE=t.json

Every rank gets GOMPI_RANK, GOMPI_SIZE, GOMPI_LOCAL_RANK, GOMPI_LOCAL_SIZE, GOMPI_JOB_ID,
GOMPI_BOOTSTRAP, GOMPI_SECRET, GOMPI_HOST and GOMPI_TRANSPORT.

Exit codes: 0 all ranks succeeded; N the first failing rank's status (128+S if it died by
signal S); 124 timeout; 125 launch failure; 126 program not executable; 127 program not found;
128+S gompirun got signal S (SIGINT: 130); 2 bad command line.`

// version is the module version when built from a tagged module, else "devel".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// usageError marks errors in the command line (exit code 2).
type usageError struct{ error }

// run is gompirun with its arguments and streams; it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	code := launcher.ExitOK
	app := newApp(stdin, stdout, stderr, &code)
	if err := app.Run(args); err != nil {
		fmt.Fprintf(stderr, "gompirun: %s\n", strings.TrimPrefix(err.Error(), "launcher: "))
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Run 'gompirun --help' for usage.\n")
			return launcher.ExitUsage
		}
		if code == launcher.ExitOK {
			code = launcher.ExitLaunchFailed
		}
	}
	return code
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, code *int) *cli.App {
	return &cli.App{
		Name:                      "gompirun",
		Usage:                     "run a gompi program on N ranks",
		UsageText:                 usageText,
		Description:               description,
		Version:                   version(),
		HideHelpCommand:           true,
		DisableSliceFlagSeparator: true,
		Reader:                    stdin,
		Writer:                    stdout,
		ErrWriter:                 stderr,
		ExitErrHandler:            func(*cli.Context, error) {}, // run decides the exit code
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Commands: []*cli.Command{traceMergeCommand(stderr)},
		Flags: append([]cli.Flag{
			&cli.IntFlag{Name: "np", Aliases: []string{"n"}, Usage: "number of ranks", DefaultText: "the tasks of the Slurm allocation, or the total slots of the hosts, or one per CPU"},
			&cli.BoolFlag{Name: "tag-output", Usage: `prefix every output line with "[rank] "`},
			&cli.BoolFlag{Name: "timestamp-output", Usage: "prefix every output line with the time it was read"},
			&cli.StringFlag{Name: "output-dir", Usage: "write each rank's output to `DIR`/rank.N.stdout and rank.N.stderr"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"x"}, Usage: "pass `NAME[=VALUE]` to every rank (repeatable)"},
			&cli.StringFlag{Name: "timeout", Usage: "stop the job after `DURATION` (\"90s\", \"5m\"; a plain number is seconds); exit code 124"},
			&cli.StringSliceFlag{Name: "host", Usage: "hosts and slots, `a:2,b:2` (repeatable); localhost and 127.0.0.1 run without the agent"},
			&cli.StringFlag{Name: "hostfile", Usage: "read hosts from `FILE`: one \"NAME [slots=N]\" per line, # comments"},
			&cli.StringFlag{Name: "launch-agent", Value: "ssh", DefaultText: "srun inside a Slurm allocation, else ssh", Usage: "`COMMAND` that starts a rank on a remote host: COMMAND HOST env VAR=... PROGRAM ARGS; srun is given -w HOST and the words unquoted"},
			&cli.StringFlag{Name: "bootstrap-addr", Usage: "`ADDR[:PORT]` the bootstrap service listens on in multi-host jobs (default: the local address that routes to the first remote host)"},
			&cli.StringFlag{Name: "iface", Usage: "network interfaces of a multi-host job: a name `eth0`, a CIDR 10.0.0.0/8, a list, or ^docker0 to exclude (default: the one that routes to the other hosts)"},
			&cli.StringFlag{Name: "transport", Value: "auto", Usage: "transport between ranks: `auto` (shared memory within a host, TCP across hosts), shm (one host only) or tcp"},
			&cli.StringFlag{Name: "bind-to", Value: "core", Usage: "`core`: when a host's ranks fit its CPUs, bind each to a share of its own and size GOMAXPROCS to it; none: leave placement to the kernel"},
			&cli.DurationFlag{Name: "report-hang-after", Usage: "print what every rank waits for once all have waited `DURATION` for a message (as --timeout and SIGQUIT do), and go on"},
			&cli.BoolFlag{Name: "strict", Usage: "every send of the program completes only when matched (GOMPI_STRICT=1), so code that relies on buffered sends hangs at once on small data, with --timeout's report naming the pair"},
			&cli.BoolFlag{Name: "keep-going", Usage: "when a rank fails, let the others run on (a task farm that outlives a worker); the failure is still reported and is the exit code"},
			&cli.DurationFlag{Name: "grace", Value: launcher.DefaultGrace, Usage: "time between SIGTERM and SIGKILL when the job is stopped"},
			&cli.BoolFlag{Name: "verbose", Usage: "say what gompirun does (placement, commands, bootstrap address) and have every rank report its CPUs, GOMAXPROCS, wait policy and transports"},
			&cli.BoolFlag{Name: "check-collectives", Usage: "every rank compares each collective's arguments with the others' before it runs and fails on a mismatch (sets GOMPI_DEBUG=check; see docs/collectives.md)"},
			&cli.BoolFlag{Name: "mpi", Usage: "run on OpenMPI: build PROGRAM with -tags mpi and hand the job to mpirun (see docs/MPI.md)"},
		}, traceFlags...),
		Action: func(c *cli.Context) error {
			cfg, err := configFrom(c, stdin, stdout, stderr)
			if err != nil {
				return usageError{err}
			}
			jt, err := newJobTrace(c, stderr)
			if err != nil {
				return usageError{err}
			}
			if jt != nil {
				cfg.Env = append(cfg.Env, jt.env())
			}
			sigs := make(chan os.Signal, 2)
			signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
			defer signal.Stop(sigs)
			cfg.Signals = sigs
			run := launcher.Run
			if c.Bool("mpi") {
				run = launcher.RunMPI
			}
			res, err := run(context.Background(), cfg)
			*code = res.ExitCode
			if jt != nil {
				jt.required = err == nil && res.ExitCode == launcher.ExitOK
				if terr := jt.finish(); terr != nil {
					if err != nil || res.ExitCode != launcher.ExitOK {
						fmt.Fprintf(stderr, "gompirun: %v\n", terr)
					} else {
						err = terr
					}
				}
			}
			if err != nil && res.ExitCode == launcher.ExitUsage {
				return usageError{err}
			}
			return err
		},
	}
}

// configFrom turns the command line into a launcher.Config.
func configFrom(c *cli.Context, stdin io.Reader, stdout, stderr io.Writer) (launcher.Config, error) {
	cfg := launcher.Config{
		NP:              c.Int("np"),
		TagOutput:       c.Bool("tag-output"),
		TimestampOutput: c.Bool("timestamp-output"),
		OutputDir:       c.String("output-dir"),
		Env:             c.StringSlice("env"),
		BootstrapAddr:   c.String("bootstrap-addr"),
		Iface:           c.String("iface"),
		Transport:       c.String("transport"),
		BindTo:          c.String("bind-to"),
		Grace:           c.Duration("grace"),
		KeepGoing:       c.Bool("keep-going"),
		ReportHangAfter: c.Duration("report-hang-after"),
		Verbose:         c.Bool("verbose"),
		Stdin:           stdin,
		Stdout:          stdout,
		Stderr:          stderr,
	}
	if c.NArg() == 0 {
		return cfg, errors.New("no PROGRAM given")
	}
	slurm, err := launcher.ReadSlurm(os.Getenv)
	if err != nil {
		return cfg, err
	}
	cfg.Slurm = slurm
	if c.Bool("strict") {
		cfg.Env = append(cfg.Env, "GOMPI_STRICT=1")
	}
	cfg.Program = c.Args().First()
	cfg.Args = c.Args().Tail()
	for i, a := range c.Args().Slice() {
		if a == ":" {
			return cfg, fmt.Errorf("argument %d is ':', which separates programs in mpirun's MPMD syntax (-n 1 ./a : -n 2 ./b); gompirun runs one PROGRAM on every rank: give the ranks their roles in the program, by rank, or build the programs with -tags mpi and start them with mpirun's MPMD syntax", i+1)
		}
	}
	if c.Bool("check-collectives") { // GOMPI_DEBUG=check, with the words of a -x GOMPI_DEBUG=...
		debug := "GOMPI_DEBUG=check"
		cfg.Env = slices.DeleteFunc(cfg.Env, func(e string) bool {
			v, ok := strings.CutPrefix(e, "GOMPI_DEBUG=")
			if ok && v != "" {
				debug += "," + v
			}
			return ok
		})
		cfg.Env = append(cfg.Env, debug)
	}
	if c.IsSet("np") && cfg.NP < 1 {
		return cfg, fmt.Errorf("-n %d: want at least 1 rank", cfg.NP)
	}
	if t := c.String("timeout"); t != "" {
		d, err := parseTimeout(t)
		if err != nil {
			return cfg, err
		}
		cfg.Timeout = d
	}
	if c.IsSet("launch-agent") {
		agent := strings.Fields(c.String("launch-agent"))
		if len(agent) == 0 {
			return cfg, errors.New("--launch-agent is empty")
		}
		cfg.LaunchAgent = agent // else the launcher's default, ssh
	}
	for _, spec := range c.StringSlice("host") {
		hosts, err := launcher.ParseHosts(spec)
		if err != nil {
			return cfg, err
		}
		cfg.Hosts = append(cfg.Hosts, hosts...)
	}
	if f := c.String("hostfile"); f != "" {
		if len(cfg.Hosts) > 0 {
			return cfg, errors.New("--host and --hostfile cannot be used together")
		}
		hosts, err := launcher.ReadHostfile(f)
		if err != nil {
			return cfg, err
		}
		cfg.Hosts = hosts
	}
	return cfg, nil
}

// parseTimeout accepts a Go duration ("90s", "1m30s") or, like mpirun, a number of seconds.
func parseTimeout(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n <= 0 {
			return 0, fmt.Errorf("--timeout %s: want a positive duration", s)
		}
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--timeout %q: want a duration like 90s or 5m, or a number of seconds", s)
	}
	return d, nil
}
