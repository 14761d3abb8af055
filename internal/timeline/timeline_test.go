package timeline

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gompi/gompi/internal/trace"
)

// job returns the merged trace of p ranks: each runs an Allreduce whose exchanges wait, with
// a message to the next rank inside, between stretches of computing.
func job(t *testing.T, p int) *trace.Trace {
	t.Helper()
	names := []string{"", "Allreduce", "ring"}
	var parts []*trace.Part
	for r := range p {
		ev := []trace.Event{
			{Op: trace.OpInit, End: 100, Dest: -1, Src: -1},
			{Op: trace.OpCollective, Start: 1000, End: 5000, Name: 1, Alg: 2, Comm: 1, Dest: -1, Src: -1},
			{Op: trace.OpSendrecv, Start: 1100 + int64(r)*10, End: 4800, WaitStart: 1200 + int64(r)*10, WaitEnd: 4700, Wait: 3000,
				Dest: int32((r + 1) % p), Out: uint64(r + 1), Src: int32((r + p - 1) % p), In: uint64((r+p-1)%p + 1), Comm: 1},
			{Op: trace.OpFinalize, Start: 9000, End: 9500, Dest: -1, Src: -1},
		}
		parts = append(parts, &trace.Part{Job: "j", Rank: r, Size: p, Boot: "k", End: 9500, Names: names, Events: ev})
	}
	tr, err := trace.Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestRenderPNG: pictures of 1 to 16 ranks decode, grow with the ranks, keep every lane at
// least 30 pixels high, and show all three colours.
func TestRenderPNG(t *testing.T) {
	prev := 0
	for _, p := range []int{1, 2, 4, 8, 16} {
		var buf bytes.Buffer
		if err := Render(&buf, job(t, p), "png", Options{}); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("%d ranks: %v", p, err)
		}
		b := img.Bounds()
		if b.Dx() != 1536 || b.Dy() < prev || b.Dy() > 1300 {
			t.Errorf("%d ranks: %d×%d pixels", p, b.Dx(), b.Dy())
		}
		prev = b.Dy()
		if lane := (b.Dy() - 150) / p; lane < 30 {
			t.Errorf("%d ranks: lanes of about %d pixels", p, lane)
		}
		for name, want := range map[string]color.Color{"computing": computeColor, "call": callColor, "wait": waitColor} {
			if !has(img, want) {
				t.Errorf("%d ranks: no %s colour in the picture", p, name)
			}
		}
	}
}

func has(img image.Image, c color.Color) bool {
	wr, wg, wb, _ := c.RGBA()
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r == wr && g == wg && bl == wb {
				return true
			}
		}
	}
	return false
}

func TestSaveFormats(t *testing.T) {
	dir := t.TempDir()
	tr := job(t, 3)
	for _, name := range []string{"t.svg", "t.pdf", "t.PNG"} {
		path := filepath.Join(dir, name)
		if err := Save(tr, path, Options{Title: "three ranks"}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) < 1000 {
			t.Errorf("%s: %d bytes, %v", name, len(data), err)
		}
		if name == "t.svg" && !strings.Contains(string(data), "<svg") {
			t.Errorf("t.svg is not SVG")
		}
	}
	if err := Save(tr, filepath.Join(dir, "t.gif"), Options{}); err == nil {
		t.Errorf("a .gif was written")
	}
	if err := Render(&bytes.Buffer{}, &trace.Trace{Size: 2, Ranks: make([]*trace.Rank, 2)}, "png", Options{}); err == nil {
		t.Errorf("a trace without ranks was drawn")
	}
}

func TestTimeTicks(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		want     string
	}{
		{0, 27, "0 5 10 15 20 25"},
		{0, 1, "0.0 0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0"},
		{0, 1536, "0 200 400 600 800 1000 1200 1400"},
	} {
		var labels []string
		for _, tk := range timeTicks(tc.min, tc.max) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != tc.want {
			t.Errorf("ticks of %v..%v: %s, want %s", tc.min, tc.max, got, tc.want)
		}
	}
}
