package farm_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
	"github.com/gompi/gompi/transport/inproc"
)

// Map on three in-process ranks: rank 0 hands out the tasks, ranks 1 and 2 run them, and the
// results come back in the order of the arguments.
func ExampleMap() {
	err := inproc.Run(3, func(c *comm.Comm) error {
		var tasks farm.Tasks // every rank registers the same tasks
		square := farm.RegisterFunc(&tasks, "square", func(x int) int { return x * x })
		opt := farm.Options{Progress: farm.ProgressOff}
		return farm.Run(context.Background(), c, &tasks, opt, func(f *farm.Farm) error {
			squares, err := farm.Map(context.Background(), f, square, []int{1, 2, 3, 4, 5})
			fmt.Println(squares)
			return err
		})
	})
	fmt.Println("error:", err)
	// Output:
	// [1 4 9 16 25]
	// error: <nil>
}

// MapUnordered yields results as they arrive, each with its index and the rank that ran it.
func ExampleMapUnordered() {
	err := inproc.Run(4, func(c *comm.Comm) error {
		var tasks farm.Tasks
		words := farm.RegisterFunc(&tasks, "len", func(s string) int { return len(s) })
		opt := farm.Options{Progress: farm.ProgressOff}
		return farm.Run(context.Background(), c, &tasks, opt, func(f *farm.Farm) error {
			args := []string{"task", "farm", "on", "gompi"}
			lengths := make([]int, len(args))
			var ranks []int
			for r, err := range farm.MapUnordered(context.Background(), f, words, args) {
				if err != nil {
					return err
				}
				lengths[r.Index] = r.Value
				ranks = append(ranks, r.Rank)
			}
			fmt.Println(lengths, "ran on workers only:", !slices.Contains(ranks, f.Rank()))
			return nil
		})
	})
	fmt.Println("error:", err)
	// Output:
	// [4 4 2 5] ran on workers only: true
	// error: <nil>
}

// Register takes a context (the map's: it ends when the map is cancelled) and may fail; a
// failure comes back as a *farm.TaskError naming the task, its index and the rank.
func ExampleRegister() {
	err := inproc.Run(2, func(c *comm.Comm) error {
		var tasks farm.Tasks
		inverse := farm.Register(&tasks, "inverse", func(ctx context.Context, x float64) (float64, error) {
			if x == 0 {
				return 0, fmt.Errorf("no inverse of 0")
			}
			return 1 / x, nil
		})
		opt := farm.Options{Progress: farm.ProgressOff}
		return farm.Run(context.Background(), c, &tasks, opt, func(f *farm.Farm) error {
			_, err := farm.Map(context.Background(), f, inverse, []float64{4, 2, 0, 1})
			fmt.Println(err)
			return nil
		})
	})
	fmt.Println("error:", err)
	// Output:
	// farm: task inverse[2] on rank 1: no inverse of 0
	// error: <nil>
}
