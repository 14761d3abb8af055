package tcptest_test

import (
	"fmt"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// Run is inproc.Run over real TCP connections on loopback.
func ExampleRun() {
	err := tcptest.Run(2, func(c *comm.Comm) error {
		if c.Rank() == 0 {
			return comm.Send(c, []byte("hello over TCP"), 1, 0)
		}
		buf := make([]byte, 64)
		st, err := comm.Recv(c, buf, 0, 0)
		fmt.Println(string(buf[:st.Bytes]))
		return err
	})
	fmt.Println("error:", err)
	// Output:
	// hello over TCP
	// error: <nil>
}
