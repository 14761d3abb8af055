package timeline_test

import (
	"bytes"
	"fmt"
	"image/png"

	"github.com/gompi/gompi/internal/timeline"
	"github.com/gompi/gompi/internal/trace"
)

// A two-rank trace (made by hand here; gompirun merges the ranks' parts) drawn as a PNG: rank 1
// waits in a receive until rank 0's message arrives.
func Example() {
	names := []string{""}
	rank0 := &trace.Part{Job: "demo", Rank: 0, Size: 2, Boot: "k", End: 9000, Names: names, Events: []trace.Event{
		{Op: trace.OpSend, Start: 4000, End: 4300, Dest: 1, Out: 1, Bytes: 8, Src: -1}}}
	rank1 := &trace.Part{Job: "demo", Rank: 1, Size: 2, Boot: "k", End: 9000, Names: names, Events: []trace.Event{
		{Op: trace.OpRecv, Start: 1000, End: 5000, WaitStart: 1100, WaitEnd: 4900, Wait: 3800, Src: 0, In: 1, RBytes: 8, Dest: -1}}}
	t, err := trace.Merge([]*trace.Part{rank0, rank1})
	if err != nil {
		fmt.Println(err)
		return
	}
	var pic bytes.Buffer
	if err := timeline.Render(&pic, t, "png", timeline.Options{Title: "a message"}); err != nil {
		fmt.Println(err)
		return
	}
	cfg, err := png.DecodeConfig(&pic)
	fmt.Println(cfg.Width, "×", cfg.Height, err)
	// Output: 1536 × 312 <nil>
}
