package trace_test

import (
	"bytes"
	"fmt"

	"github.com/gompi/gompi/internal/trace"
)

// Two ranks' parts, as comm.Finalize writes them (here made by hand): rank 0 sends a message
// that rank 1 receives. Merge puts them on one clock and pairs the message's ends; WriteChrome
// writes the file Perfetto loads.
func Example() {
	names := []string{""}
	rank0 := &trace.Part{Job: "demo", Rank: 0, Size: 2, Boot: "k", Wall0: 1_000_000, End: 5000, Names: names,
		Events: []trace.Event{{Op: trace.OpSend, Start: 1000, End: 1200, Dest: 1, Tag: 7, Bytes: 8, Out: 42, Src: -1, RTag: -1}}}
	rank1 := &trace.Part{Job: "demo", Rank: 1, Size: 2, Boot: "k", Wall0: 1_000_500, End: 5000, Names: names,
		Events: []trace.Event{{Op: trace.OpRecv, Start: 100, End: 900, WaitStart: 120, WaitEnd: 880, Wait: 760,
			Src: 0, In: 42, RTag: 7, RBytes: 8, Dest: -1, Tag: -1}}}
	t, err := trace.Merge([]*trace.Part{rank0, rank1})
	if err != nil {
		fmt.Println(err)
		return
	}
	f := t.Flows[0]
	fmt.Printf("message from rank %d at %d ns to rank %d at %d ns\n", f.From, f.Send, f.To, f.Recv)
	var out bytes.Buffer
	if err := t.WriteChrome(&out); err != nil {
		fmt.Println(err)
		return
	}
	sum, err := trace.CheckChrome(&out)
	fmt.Println(sum, err)
	// Output:
	// message from rank 0 at 1000 ns to rank 1 at 1400 ns
	// 2 ranks, 1 messages; rank 0: Send×1; rank 1: Recv×1 <nil>
}
