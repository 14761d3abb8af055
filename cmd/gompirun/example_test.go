package main

import (
	"fmt"
	"os"
	"strings"
)

// gompirun -n 3 --tag-output PROGRAM ARGS: every rank is a shell reading its rank from the
// environment, and every line carries the rank it came from.
func Example() {
	code := run([]string{"gompirun", "-n", "3", "--tag-output", "/bin/sh", "-c", `echo "rank $GOMPI_RANK of $GOMPI_SIZE"`},
		strings.NewReader(""), os.Stdout, os.Stdout)
	fmt.Println("exit code", code)
	// Unordered output:
	// [0] rank 0 of 3
	// [1] rank 1 of 3
	// [2] rank 2 of 3
	// exit code 0
}
