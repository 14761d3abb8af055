// Command tracecheck checks a trace written by gompirun --trace (and, optionally, the picture
// of --timeline), for CI and for people who change the tracing code: the trace must be one
// that Perfetto loads as gompi means it (internal/trace.CheckChrome: ranks named, slices
// nested, every message with both ends, arrows forward in time), have every rank 0..N-1, and
// hold the named slices on every rank; the picture must decode.
//
//	go run ./scripts/tracecheck -ranks 4 -slice Allreduce -png t.png t.json
//
// It prints a one-line summary and exits 1 with the reason when a check fails.
package main

import (
	"errors"
	"flag"
	"fmt"
	"image/png"
	"os"
	"strings"

	"github.com/gompi/gompi/internal/trace"
)

func main() {
	ranks := flag.Int("ranks", 0, "the trace must have exactly ranks 0..`N`-1 (0: any)")
	slices := flag.String("slice", "", "comma-separated `NAMES` of slices every rank must have")
	minFlows := flag.Int("messages", 1, "the trace must have at least `N` messages")
	picture := flag.String("png", "", "a PNG `FILE` that must decode")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: tracecheck [flags] TRACE.json")
		os.Exit(2)
	}
	if err := check(flag.Arg(0), *ranks, *slices, *minFlows, *picture); err != nil {
		fmt.Fprintf(os.Stderr, "tracecheck: %v\n", err)
		os.Exit(1)
	}
}

func check(name string, ranks int, slices string, minFlows int, picture string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sum, err := trace.CheckChrome(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if ranks > 0 {
		if len(sum.Ranks) != ranks {
			return fmt.Errorf("%s: ranks %v, want 0..%d", name, sum.Ranks, ranks-1)
		}
		for i, r := range sum.Ranks {
			if r != i {
				return fmt.Errorf("%s: ranks %v, want 0..%d", name, sum.Ranks, ranks-1)
			}
		}
	}
	for _, s := range strings.Split(slices, ",") {
		if s == "" {
			continue
		}
		for _, r := range sum.Ranks {
			if sum.Slices[r][s] == 0 {
				return fmt.Errorf("%s: rank %d has no %s slice", name, r, s)
			}
		}
	}
	if sum.Flows < minFlows {
		return fmt.Errorf("%s: %d messages, want at least %d", name, sum.Flows, minFlows)
	}
	if picture != "" {
		pf, err := os.Open(picture)
		if err != nil {
			return err
		}
		defer pf.Close()
		img, err := png.Decode(pf)
		if err != nil {
			return fmt.Errorf("%s: %w", picture, err)
		}
		if b := img.Bounds(); b.Dx() < 200 || b.Dy() < 100 {
			return errors.New(picture + ": the picture is too small")
		}
	}
	fmt.Printf("%s: %v\n", name, sum)
	return nil
}
