package transport_test

import (
	"fmt"

	"github.com/gompi/gompi/transport"
)

// Only Eager and Data frames carry a payload; an RTS announces one.
func ExampleHeader_PayloadLen() {
	for _, h := range []transport.Header{
		{Kind: transport.Eager, Length: 100},
		{Kind: transport.RTS, Length: 1 << 20},
		{Kind: transport.Data, Length: 1 << 20},
	} {
		fmt.Println(h.Kind, h.PayloadLen())
	}
	// Output:
	// Eager 100
	// RTS 0
	// Data 1048576
}
