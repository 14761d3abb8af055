package waits_test

import (
	"fmt"
	"time"

	"github.com/gompi/gompi/internal/waits"
)

// recv stands for the engine's request.
type recv struct{ w waits.Wait }

func (r recv) Wait() waits.Wait { return r.w }

// A goroutine about to park on a receive registers it, and the report lists it until it
// wakes.
func Example() {
	waits.Enable()
	w := recv{waits.Wait{Op: "Recv", Peer: 1, Tag: 99, Bytes: 32, Comm: "world", From: -2, Since: time.Now()}}
	waits.Block(w) // the engine registers its request
	r := waits.Snapshot(0)
	fmt.Println(len(r.Waits), r.Waits[0].Op, r.Waits[0].Peer, r.Waits[0].Tag)
	waits.Unblock(w)
	fmt.Println(len(waits.Snapshot(0).Waits))
	// Output:
	// 1 Recv 1 99
	// 0
}
