package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"
)

// usageError marks errors in the command line (exit code 2).
type usageError struct{ error }

const description = `Prints OSU micro-benchmark columns ("# Size", "Latency (us)", "Avg Latency(us)", ...)
so lines can be set beside osu_latency, osu_bw, osu_allreduce, ... Run it under gompirun:

   gompirun -n 2 gompi-bench latency
   gompirun -n 2 gompi-bench bw --max 1M
   gompirun -n 4 gompi-bench allreduce --sizes 8,1K,1M --full

Default iterations (timed + untimed warm-up), as OSU's:
   latency                     10000 + 100 up to 8 KiB, 1000 + 10 above
   bw, bibw (window of 64)       100 + 10  up to 8 KiB,   20 + 2  above
   bcast, allgather, alltoall   1000 + 100 up to 8 KiB,  100 + 10 above
   allreduce, reduce            1000 + 100 up to 8192 float32 (32 KiB), 100 + 10 above
   barrier                      1000 + 100

allreduce and reduce sum float32 elements (MPI_FLOAT in the C twin). latency, bw and bibw use
ranks 0 and 1 (at least 2 ranks; others idle); the collectives run on every rank. Every
benchmark but barrier checks the data it received and exits non-zero when it is wrong.`

// newApp returns the command line: one command per benchmark. start runs the benchmark.
func newApp(stdout, stderr io.Writer, start func(config) error) *cli.App {
	app := &cli.App{
		Name:            "gompi-bench",
		Usage:           "OSU-style micro-benchmarks for gompi",
		UsageText:       "gompirun -n N gompi-bench BENCHMARK [options]",
		Description:     description,
		HideHelpCommand: true,
		Writer:          stdout,
		ErrWriter:       stderr,
		ExitErrHandler:  func(*cli.Context, error) {}, // cliMain decides the exit code
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Errorf("unknown benchmark %q", c.Args().First())}
			}
			return usageError{fmt.Errorf("no benchmark given")}
		},
	}
	for _, b := range benchmarks {
		app.Commands = append(app.Commands, newCommand(b, start))
	}
	return app
}

// newCommand returns the command that runs benchmark b.
func newCommand(b *benchmark, start func(config) error) *cli.Command {
	flags := []cli.Flag{
		&cli.IntFlag{Name: "iterations", Aliases: []string{"i"}, Usage: "timed iterations at every size", DefaultText: "OSU's, listed by gompi-bench --help"},
		&cli.IntFlag{Name: "warmup", Aliases: []string{"x"}, Value: -1, Usage: "untimed warm-up iterations at every size", DefaultText: "OSU's, listed by gompi-bench --help"},
	}
	if b.kind != barrierKind {
		flags = append(flags,
			&cli.StringFlag{Name: "min", Usage: "smallest size in bytes (K and M suffixes: KiB, MiB)", DefaultText: fmt.Sprint(b.elemSize)},
			&cli.StringFlag{Name: "max", Usage: "largest size in bytes", DefaultText: "4M"},
			&cli.StringFlag{Name: "sizes", Usage: "run exactly these sizes, `LIST` like 1,65472,65600 (replaces --min/--max)"},
		)
	}
	if b.kind == pointToPoint && b.name != "latency" {
		flags = append(flags, &cli.IntFlag{Name: "window", Aliases: []string{"W"}, Value: defaultWindow, Usage: "messages in flight per iteration"})
	}
	if b.kind != pointToPoint {
		flags = append(flags, &cli.BoolFlag{Name: "full", Aliases: []string{"f"}, Usage: "also print Min Latency(us), Max Latency(us) and Iterations, like OSU's -f"})
	}
	return &cli.Command{
		Name:      b.name,
		Usage:     b.usage,
		UsageText: fmt.Sprintf("gompirun -n N gompi-bench %s [options]", b.name),
		Flags:     flags,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		Action: func(c *cli.Context) error {
			cfg, err := configFrom(c, b)
			if err != nil {
				return usageError{err}
			}
			return start(cfg)
		},
	}
}

// configFrom turns a command's flags into a config.
func configFrom(c *cli.Context, b *benchmark) (config, error) {
	cfg := config{bench: b, iterations: c.Int("iterations"), warmup: c.Int("warmup"), window: defaultWindow, full: c.Bool("full")}
	if c.NArg() > 0 {
		return cfg, fmt.Errorf("%s: unexpected argument %q", b.name, c.Args().First())
	}
	if c.IsSet("iterations") && cfg.iterations < 1 {
		return cfg, fmt.Errorf("--iterations %d: want at least 1", cfg.iterations)
	}
	if c.IsSet("warmup") && cfg.warmup < 0 {
		return cfg, fmt.Errorf("--warmup %d: want 0 or more", cfg.warmup)
	}
	if c.IsSet("window") {
		cfg.window = c.Int("window")
		if cfg.window < 1 {
			return cfg, fmt.Errorf("--window %d: want at least 1", cfg.window)
		}
	}
	if b.kind == barrierKind {
		return cfg, nil
	}
	if c.IsSet("sizes") {
		if c.IsSet("min") || c.IsSet("max") {
			return cfg, fmt.Errorf("--sizes replaces --min and --max: give one or the other")
		}
		sizes, err := parseSizes(c.String("sizes"))
		if err != nil {
			return cfg, fmt.Errorf("--sizes: %w", err)
		}
		cfg.sizes = sizes
	} else {
		lo, hi := 1, defaultMax
		if b.kind == collective {
			lo = b.elemSize
		}
		var err error
		if c.IsSet("min") {
			if lo, err = parseSize(c.String("min")); err != nil {
				return cfg, fmt.Errorf("--min: %w", err)
			}
		}
		if c.IsSet("max") {
			if hi, err = parseSize(c.String("max")); err != nil {
				return cfg, fmt.Errorf("--max: %w", err)
			}
		}
		if lo > hi {
			return cfg, fmt.Errorf("--min %d is above --max %d", lo, hi)
		}
		cfg.sizes = powersOfTwo(lo, hi)
	}
	return cfg, b.checkSizes(cfg.sizes)
}
