package peerauth_test

import (
	"fmt"
	"net"
	"time"

	"github.com/gompi/gompi/internal/peerauth"
)

// Rank 2 dials rank 0 of a 3-rank job; both know the secret, and rank 0 learns who called.
func Example() {
	secret, job := []byte("job secret"), peerauth.JobID([]byte("job-1"))
	a, d := net.Pipe()
	go func() {
		defer d.Close()
		if err := peerauth.Dial(d, secret, job, 2, 0, time.Second); err != nil {
			fmt.Println("dial:", err)
		}
	}()
	from, err := peerauth.Accept(a, secret, job, 0, 3, time.Second)
	fmt.Println(from, err)
	// Output: 2 <nil>
}
