package engine_test

import (
	"context"
	"fmt"

	"github.com/gompi/gompi/internal/engine"
)

// A singleton world delivers self-sends without any transport.
func ExampleNewSingleton() {
	w := engine.NewSingleton()
	defer w.Finalize()
	if err := w.Send(context.Background(), []byte("to myself"), 0, 1); err != nil {
		fmt.Println(err)
	}
	buf := make([]byte, 16)
	st, err := w.Recv(context.Background(), buf, 0, 1)
	fmt.Println(string(buf[:st.Bytes]), err)
	// Output: to myself <nil>
}
