package launcher_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/gompi/gompi/launcher"
)

// Run a two-rank job whose ranks are shell commands reading their rank from the environment.
// Had one failed, the other would have been stopped and ExitCode would be the failed rank's.
func ExampleRun() {
	res, err := launcher.Run(context.Background(), launcher.Config{
		NP:        2,
		Program:   "/bin/sh",
		Args:      []string{"-c", `echo "hello from rank $GOMPI_RANK of $GOMPI_SIZE"`},
		TagOutput: true,
		Stdout:    os.Stdout,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("exit code:", res.ExitCode)
	// Unordered output:
	// [0] hello from rank 0 of 2
	// [1] hello from rank 1 of 2
	// exit code: 0
}
