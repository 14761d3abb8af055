package commtest_test

import (
	"fmt"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/comm/commtest"
	"github.com/gompi/gompi/transport/inproc"
)

// A backend runs every case on its own ranks; here one case on three in-process ranks.
func ExampleCases() {
	for _, tc := range commtest.Cases() {
		if tc.Name != "Wildcards" {
			continue
		}
		err := inproc.Run(3, func(c *comm.Comm) error { return tc.Run(c) })
		fmt.Println(tc.Name, "error:", err)
	}
	// Output: Wildcards error: <nil>
}
