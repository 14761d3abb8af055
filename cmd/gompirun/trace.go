package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/gompi/gompi/internal/timeline"
	"github.com/gompi/gompi/internal/trace"
)

// Tracing (docs/LAUNCHER.md, "Tracing"): with --trace FILE and/or --timeline PICTURE, every
// rank gets GOMPI_TRACE and writes its part at Finalize (PATH.rank-N.part); after the job
// gompirun merges the parts into FILE (Chrome / Perfetto JSON) and draws PICTURE, then removes
// the parts. PATH is FILE made absolute, so that ranks in other directories (or, on a shared
// file system, on other hosts) write beside it; with --timeline alone it is in a temporary
// directory.

// jobTrace is where one job's trace goes.
type jobTrace struct {
	path     string // GOMPI_TRACE for the ranks
	out      string // --trace FILE, or "" (timeline only)
	picture  string // --timeline FILE, or ""
	tmp      string // a temporary directory to remove, or ""
	stderr   io.Writer
	required bool // the job succeeded: a missing trace is an error
}

// traceFlags are gompirun's tracing flags.
var traceFlags = []cli.Flag{
	&cli.StringFlag{Name: "trace", Usage: "record every rank's operations and write them to `FILE` (Chrome / Perfetto trace-event JSON: open it in https://ui.perfetto.dev)"},
	&cli.StringFlag{Name: "timeline", Usage: "draw the ranks' operations over time into `FILE` (.png, .svg or .pdf)"},
}

// newJobTrace prepares the trace of a job from the command line; nil without --trace or
// --timeline. It removes parts left in the way by an earlier job.
func newJobTrace(c *cli.Context, stderr io.Writer) (*jobTrace, error) {
	out, picture := c.String("trace"), c.String("timeline")
	if out == "" && picture == "" {
		return nil, nil
	}
	if c.Bool("mpi") {
		return nil, errors.New("--trace and --timeline need gompi's own transports: ranks on OpenMPI (--mpi) record nothing")
	}
	if picture != "" {
		if err := checkPictureFormat(picture); err != nil {
			return nil, err
		}
	}
	jt := &jobTrace{out: out, picture: picture, stderr: stderr}
	if out != "" {
		abs, err := filepath.Abs(out)
		if err != nil {
			return nil, fmt.Errorf("--trace %s: %w", out, err)
		}
		jt.path = abs
	} else {
		dir, err := os.MkdirTemp("", "gompirun-trace-")
		if err != nil {
			return nil, fmt.Errorf("--timeline: %w", err)
		}
		jt.tmp, jt.path = dir, filepath.Join(dir, "trace.json")
	}
	if err := jt.removeParts(); err != nil {
		jt.cleanup()
		return nil, err
	}
	return jt, nil
}

func checkPictureFormat(name string) error {
	ext := filepath.Ext(name)
	for _, f := range timeline.Formats {
		if ext == "."+f {
			return nil
		}
	}
	return fmt.Errorf("--timeline %s: the name must end in one of .png, .svg, .pdf, .jpg, .tiff, .eps", name)
}

// env is the variable that makes the ranks record.
func (jt *jobTrace) env() string { return trace.EnvVar + "=" + jt.path }

func (jt *jobTrace) removeParts() error {
	parts, err := trace.FindParts(jt.path)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("trace: %w", err)
		}
	}
	return nil
}

func (jt *jobTrace) cleanup() {
	if jt.tmp != "" {
		os.RemoveAll(jt.tmp)
	}
}

// finish merges the parts the ranks wrote, writes the trace and the picture, and removes the
// parts. A job that failed may have left some or none: what there is is merged.
func (jt *jobTrace) finish() error {
	defer jt.cleanup()
	parts, err := trace.FindParts(jt.path)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		if !jt.required {
			return nil
		}
		return errors.New("trace: no rank wrote its part (did the program call comm.Finalize, or comm.Main?)")
	}
	defer func() {
		for _, p := range parts {
			os.Remove(p)
		}
	}()
	return mergeParts(parts, jt.out, jt.picture, jt.stderr)
}

// mergeParts merges the part files into the trace file out and draws the picture, each when
// its name is not empty, and says what it wrote on w.
func mergeParts(files []string, out, picture string, w io.Writer) error {
	parts := make([]*trace.Part, 0, len(files))
	for _, f := range files {
		p, err := trace.ReadPart(f)
		if err != nil {
			return err
		}
		parts = append(parts, p)
	}
	t, err := trace.Merge(parts)
	if err != nil {
		return err
	}
	for _, n := range t.Notes {
		fmt.Fprintf(w, "gompirun: trace: %s\n", n)
	}
	ops := 0
	for _, rk := range t.Ranks {
		if rk != nil {
			ops += len(rk.Slices)
		}
	}
	if out != "" {
		if err := writeTrace(t, out); err != nil {
			return err
		}
		fmt.Fprintf(w, "gompirun: trace: %d ranks, %d operations, %d messages in %s\n", len(parts), ops, len(t.Flows), out)
	}
	if picture != "" {
		if err := timeline.Save(t, picture, timeline.Options{}); err != nil {
			return err
		}
		fmt.Fprintf(w, "gompirun: timeline of %d ranks in %s\n", len(parts), picture)
	}
	return nil
}

func writeTrace(t *trace.Trace, name string) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	err = t.WriteChrome(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("trace: write %s: %w", name, err)
	}
	return nil
}

// traceMergeCommand merges the parts that ranks started without gompirun wrote.
func traceMergeCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "trace-merge",
		Usage:     "merge the parts ranks wrote with GOMPI_TRACE=FILE (FILE.rank-N.part) into FILE",
		ArgsUsage: "FILE",
		Description: `For programs started without gompirun (plain ./prog, or under another launcher) with
GOMPI_TRACE=FILE in every rank's environment: each rank writes FILE.rank-N.part at Finalize;
this merges them into FILE, and draws them with --timeline. The parts are kept.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "timeline", Usage: "also draw the timeline into `FILE` (.png, .svg or .pdf)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError{errors.New("trace-merge wants one FILE")}
			}
			out := c.Args().First()
			picture := c.String("timeline")
			if picture != "" {
				if err := checkPictureFormat(picture); err != nil {
					return usageError{err}
				}
			}
			parts, err := trace.FindParts(out)
			if err != nil {
				return err
			}
			if len(parts) == 0 {
				return fmt.Errorf("trace-merge: no %s.rank-N.part files", out)
			}
			return mergeParts(parts, out, picture, stderr)
		},
	}
}
