package tcp_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/transport/tcp"
)

// New connects the ranks of a job through a shared bootstrap store; here two ranks in one
// process, with an in-memory store (gompirun serves one over TCP for real jobs).
func ExampleNew() {
	store := bootstrap.NewMemStore()
	var wg sync.WaitGroup
	for rank := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t, err := tcp.New(context.Background(), tcp.Config{Rank: rank, Size: 2, Store: store, Secret: []byte("s3cret")})
			if err != nil {
				fmt.Println(err)
				return
			}
			defer t.Close()
			if rank == 0 {
				fmt.Println("connected; eager limit", t.EagerLimit())
			}
		}()
	}
	wg.Wait()
	// Output: connected; eager limit 65536
}
