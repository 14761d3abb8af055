package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// testSizes are small sizes on both sides of 64 KiB, for quick runs; 0 only for point to point.
func testSizes(b *benchmark) []int {
	switch {
	case b.kind == pointToPoint:
		return []int{0, 1, 100, 65600}
	case b.elemSize == 4:
		return []int{4, 100, 65600}
	}
	return []int{1, 100, 65600}
}

// testEagerLimit keeps every test message eager in process. Like OSU, bw and bibw post a whole
// window of receives into one buffer (every message of a window carries the same bytes); the
// in-process transport copies rendezvous payloads from one goroutine per send, so those
// identical copies would overlap in time and the race detector would report them. Over TCP one
// reader per connection writes the payloads in turn.
const testEagerLimit = 1 << 20

// runOn runs cfg on p in-process ranks and returns rank 0's output.
func runOn(p int, cfg config) (string, error) {
	var out strings.Builder
	err := inproc.RunWithEagerLimit(p, testEagerLimit, func(c *comm.Comm) error {
		w := io.Discard
		if c.Rank() == 0 {
			w = &out
		}
		return run(c, cfg, w)
	})
	return out.String(), err
}

var (
	rowRE   = regexp.MustCompile(`^[0-9]+ *$`)
	valueRE = regexp.MustCompile(`^ *[0-9]+\.[0-9][0-9]$`)
)

// checkValue checks that s is a value printed with two decimals, right-aligned in width.
func checkValue(t *testing.T, label, s string, width int) {
	t.Helper()
	if len(s) != width || !valueRE.MatchString(s) {
		t.Errorf("%s: value %q is not a number with 2 decimals right-aligned in %d", label, s, width)
	}
}

// TestOutputFormat runs every benchmark at a few sizes and checks OSU's layout line by line.
func TestOutputFormat(t *testing.T) {
	for _, b := range benchmarks {
		for _, p := range []int{1, 2, 3} {
			if b.kind == pointToPoint && p < 2 {
				continue
			}
			for _, full := range []bool{false, true} {
				if full && b.kind == pointToPoint {
					continue
				}
				label := fmt.Sprintf("%s p=%d full=%v", b.name, p, full)
				cfg := config{bench: b, sizes: testSizes(b), iterations: 3, warmup: 1, window: 4, full: full}
				out, err := runOn(p, cfg)
				if err != nil {
					t.Fatalf("%s: %v", label, err)
				}
				checkOutput(t, label, cfg, p, out)
			}
		}
	}
}

func checkOutput(t *testing.T, label string, cfg config, p int, out string) {
	t.Helper()
	b := cfg.bench
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if b.kind != pointToPoint {
		if lines[0] != "" {
			t.Errorf("%s: first line %q, want OSU's blank line before a collective's title", label, lines[0])
		}
		lines = lines[1:]
	}
	if want := "# gompi-bench " + b.title; lines[0] != want {
		t.Errorf("%s: title %q, want %q", label, lines[0], want)
	}
	lines = lines[1:]
	if b.elemSize == 4 {
		if !strings.HasPrefix(lines[0], "# Datatype: float32") {
			t.Errorf("%s: %q, want the datatype line", label, lines[0])
		}
		lines = lines[1:]
	}
	if b.kind != pointToPoint {
		if !strings.HasPrefix(lines[0], "# Algorithm: ") || len(lines[0]) == len("# Algorithm: ") {
			t.Errorf("%s: %q, want the algorithm line", label, lines[0])
		}
		if b.name == "allreduce" && p == 3 && lines[0] != "# Algorithm: recursive-doubling 4-100, ring 65600" {
			t.Errorf("%s: %q, want recursive doubling up to 100 bytes and the ring at 65600", label, lines[0])
		}
		lines = lines[1:]
	}
	header := map[kind]string{
		pointToPoint: fmt.Sprintf("%-10s%20s", "# Size", b.column),
		collective:   fmt.Sprintf("%-10s%20s", "# Size", "Avg Latency(us)"),
		barrierKind:  "# Avg Latency(us)",
	}[b.kind]
	if cfg.full {
		header += fmt.Sprintf("%20s%20s%12s", "Min Latency(us)", "Max Latency(us)", "Iterations")
	}
	if lines[0] != header {
		t.Errorf("%s: header %q, want %q", label, lines[0], header)
	}
	rows := lines[1:]
	sizes := cfg.sizes
	if b.kind == barrierKind {
		sizes = []int{0}
	}
	if len(rows) != len(sizes) {
		t.Fatalf("%s: %d rows, want one per size %v:\n%s", label, len(rows), sizes, out)
	}
	for i, row := range rows {
		rest := row
		if b.kind != barrierKind {
			if len(row) < 10 || !rowRE.MatchString(row[:10]) || row[:10] != fmt.Sprintf("%-10d", sizes[i]) {
				t.Errorf("%s: row %q does not start with the size %d left-aligned in 10", label, row, sizes[i])
				continue
			}
			rest = row[10:]
		}
		width := 20
		if b.kind == barrierKind {
			width = 17
		}
		if len(rest) < width {
			t.Errorf("%s: row %q too short", label, row)
			continue
		}
		checkValue(t, label, rest[:width], width)
		rest = rest[width:]
		if cfg.full {
			if len(rest) != 52 {
				t.Errorf("%s: row %q: want Min, Max and Iterations after the average", label, row)
				continue
			}
			checkValue(t, label, rest[:20], 20)
			checkValue(t, label, rest[20:40], 20)
			if n, err := strconv.Atoi(strings.TrimSpace(rest[40:])); err != nil || n != 3 {
				t.Errorf("%s: row %q: iterations %q, want 3", label, row, rest[40:])
			}
		} else if rest != "" {
			t.Errorf("%s: row %q has more than OSU's columns", label, row)
		}
	}
}

// TestCorruptedReceiveDetected flips one received byte after the last iteration of a size, on
// the rank that checks it, and expects the benchmark to fail naming benchmark, size, rank and
// index.
func TestCorruptedReceiveDetected(t *testing.T) {
	for _, b := range benchmarks {
		if b.kind == barrierKind {
			continue // moves no data
		}
		victim := 1 // latency and bibw check on both ranks, bw on rank 1, the collectives everywhere but the root
		if b.name == "reduce" {
			victim = 0 // only the root has the result
		}
		sizes := testSizes(b)
		size := sizes[len(sizes)-1]
		for _, at := range []string{"first", "middle"} {
			label := fmt.Sprintf("%s, byte flipped at the %s index", b.name, at)
			var flipped int
			cfg := config{bench: b, sizes: sizes, iterations: 2, warmup: 1, window: 2,
				hook: func(rank, s int, recv []byte) {
					if rank == victim && s == size {
						flipped = 0
						if at == "middle" {
							flipped = len(recv)/2 + 1
						}
						recv[flipped] ^= 0x10
					}
				}}
			_, err := runOn(3, cfg)
			var ce *checkError
			if !errors.As(err, &ce) {
				t.Errorf("%s: error %v, want a data check failure", label, err)
				continue
			}
			idx := flipped
			if b.elemSize == 4 {
				idx = flipped / 4
			}
			if ce.bench != b.name || ce.size != size || ce.rank != victim || ce.index != idx || ce.got == ce.want {
				t.Errorf("%s: %+v, want benchmark %s, size %d, rank %d, index %d", label, ce, b.name, size, victim, idx)
			}
			msg := ce.Error()
			for _, part := range []string{b.name, fmt.Sprintf("size %d", size), fmt.Sprintf("rank %d", victim), "is " + ce.got, "want " + ce.want} {
				if !strings.Contains(msg, part) {
					t.Errorf("%s: message %q does not say %q", label, msg, part)
				}
			}
		}
	}
}

func TestPointToPointNeedsTwoRanks(t *testing.T) {
	for _, name := range []string{"latency", "bw", "bibw"} {
		_, err := runOn(1, config{bench: benchmarkNamed(name), sizes: []int{1}, iterations: 1})
		if err == nil || !strings.Contains(err.Error(), "needs at least 2 ranks") {
			t.Errorf("%s on 1 rank: error %v, want one saying it needs 2 ranks", name, err)
		}
	}
}

// TestCommandLine checks the flags, the defaults and the usage errors.
func TestCommandLine(t *testing.T) {
	parse := func(args ...string) (config, int, string) {
		var cfg config
		var stderr strings.Builder
		code := cliMain(append([]string{"gompi-bench"}, args...), io.Discard, &stderr, func(c config) error {
			cfg = c
			return nil
		})
		return cfg, code, stderr.String()
	}
	cfg, code, _ := parse("latency", "--sizes", "1,65472,65600", "--iterations", "5", "--warmup", "0")
	if code != 0 || !slices.Equal(cfg.sizes, []int{1, 65472, 65600}) || cfg.iterations != 5 || cfg.warmup != 0 {
		t.Errorf("latency --sizes: code %d, %+v", code, cfg)
	}
	if n := cfg.countsFor(65472); n != (counts{5, 0}) {
		t.Errorf("--iterations 5 --warmup 0: counts %+v", n)
	}
	cfg, code, _ = parse("allreduce")
	if code != 0 || cfg.sizes[0] != 4 || cfg.sizes[len(cfg.sizes)-1] != 4<<20 || len(cfg.sizes) != 21 || cfg.warmup != -1 {
		t.Errorf("allreduce defaults: code %d, sizes %v, warmup %d", code, cfg.sizes, cfg.warmup)
	}
	cfg, _, _ = parse("latency", "--min", "0", "--max", "4")
	if !slices.Equal(cfg.sizes, []int{0, 1, 2, 4}) {
		t.Errorf("--min 0 --max 4: sizes %v, want OSU's 0 1 2 4", cfg.sizes)
	}
	cfg, _, _ = parse("bw", "--min", "1K", "--max", "4K", "-W", "8")
	if !slices.Equal(cfg.sizes, []int{1024, 2048, 4096}) || cfg.window != 8 {
		t.Errorf("bw --min 1K --max 4K -W 8: sizes %v, window %d", cfg.sizes, cfg.window)
	}
	for _, bad := range [][]string{
		{},
		{"nosuch"},
		{"allreduce", "--sizes", "6"},
		{"bcast", "--sizes", "0"},
		{"latency", "--iterations", "0"},
		{"latency", "--sizes", "1,x"},
		{"latency", "--min", "8", "--max", "4"},
		{"barrier", "--sizes", "8"},
		{"latency", "--full"},
		{"bw", "extra"},
	} {
		if _, code, msg := parse(bad...); code != 2 || !strings.Contains(msg, "gompi-bench: ") {
			t.Errorf("%q: exit code %d, stderr %q; want 2 and a message", bad, code, msg)
		}
	}
}

// TestOSUCounts checks the iteration counts against OSU's at the thresholds.
func TestOSUCounts(t *testing.T) {
	for _, tc := range []struct {
		bench string
		size  int
		want  counts
	}{
		{"latency", 8192, counts{10000, 100}}, {"latency", 8193, counts{1000, 10}},
		{"bw", 8192, counts{100, 10}}, {"bibw", 16384, counts{20, 2}},
		{"bcast", 8192, counts{1000, 100}}, {"alltoall", 16384, counts{100, 10}},
		{"allreduce", 32768, counts{1000, 100}}, {"reduce", 65536, counts{100, 10}},
		{"barrier", 0, counts{1000, 100}},
	} {
		if got := (config{bench: benchmarkNamed(tc.bench), warmup: -1}).countsFor(tc.size); got != tc.want {
			t.Errorf("%s at %d bytes: %+v, want %+v", tc.bench, tc.size, got, tc.want)
		}
	}
}

func TestPatterns(t *testing.T) {
	for _, size := range []int{1, 2, 4096, 65600} {
		for key := range 9 {
			s := seed(key, size)
			for iter := range 600 {
				if stamp(s, iter) == stamp(s, iter+1) {
					t.Fatalf("key %d size %d: iterations %d and %d have the same stamp", key, size, iter, iter+1)
				}
			}
		}
	}
	for _, n := range []int{1, 5000, 1 << 20} {
		b := alignedBytes(n)
		if len(b) != n || uintptr(unsafe.Pointer(unsafe.SliceData(b)))%pageSize != 0 {
			t.Errorf("alignedBytes(%d): length %d, address %p", n, len(b), unsafe.SliceData(b))
		}
	}
}
