package tcp_test

import (
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// TestMessageOver2GiB: a message longer than 2^31 bytes crosses a TCP connection intact (64-bit
// lengths and fragment offsets end to end).
func TestMessageOver2GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 2 GiB")
	}
	const n = 1<<31 + 4097
	err := tcptest.Run(2, func(c *comm.Comm) error {
		buf := make([]byte, n)
		probe := []int{0, 1, 1 << 20, 1<<31 - 1, 1 << 31, n - 1}
		if c.Rank() == 0 {
			for _, i := range probe {
				buf[i] = byte(i%251 + 1)
			}
			return comm.Send(c, buf, 1, 3)
		}
		st, err := comm.Recv(c, buf, 0, 3)
		if err != nil {
			return err
		}
		if st.Bytes != n {
			return fmt.Errorf("received %d bytes, want %d", st.Bytes, n)
		}
		for _, i := range probe {
			if buf[i] != byte(i%251+1) {
				return fmt.Errorf("byte %d = %d, want %d", i, buf[i], i%251+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
