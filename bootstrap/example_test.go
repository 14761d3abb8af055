package bootstrap_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gompi/gompi/bootstrap"
)

// A launcher serves the store; each rank dials it, publishes its address and reads a peer's.
func Example() {
	secret := []byte("job secret: 32 random bytes here")
	srv, err := bootstrap.NewServer("127.0.0.1:0", secret)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx := context.Background()
	rank0, err := bootstrap.Dial(ctx, srv.Addr(), secret)
	if err != nil {
		log.Fatal(err)
	}
	defer rank0.Close()
	rank1, err := bootstrap.Dial(ctx, srv.Addr(), secret)
	if err != nil {
		log.Fatal(err)
	}
	defer rank1.Close()

	done := make(chan []byte)
	go func() {
		v, err := rank1.Get(ctx, "addr/0") // waits until rank 0 publishes
		if err != nil {
			log.Fatal(err)
		}
		done <- v
	}()
	if err := rank0.Set(ctx, "addr/0", []byte("127.0.0.1:40000")); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("rank 1 reads %s\n", <-done)
	// Output: rank 1 reads 127.0.0.1:40000
}
