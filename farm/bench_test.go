package farm

import (
	"context"
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
	"github.com/gompi/gompi/transport/shm/shmtest"
)

// BenchmarkMapTiny measures the farm's cost per task with tasks that do nothing: b.N tasks in
// one Map, on in-process ranks and on shared memory, with automatic batching and with every
// task sent alone (Batch 1), for int arguments and results (raw memory) and for strings (comm
// values, through gob). It reports ns/task; the package comment has the numbers.
func BenchmarkMapTiny(b *testing.B) {
	runners := []struct {
		name string
		run  func(int, func(*comm.Comm) error) error
	}{{"inproc", inproc.Run}, {"shm", shmtest.Run}}
	for _, rn := range runners {
		for _, p := range []int{2, 4} {
			for _, batch := range []int{0, 1} {
				for _, kind := range []string{"int", "string"} {
					size := "auto"
					if batch > 0 {
						size = fmt.Sprint(batch)
					}
					b.Run(fmt.Sprintf("%s/p=%d/batch=%s/%s", rn.name, p, size, kind), func(b *testing.B) {
						err := rn.run(p, func(c *comm.Comm) error {
							ts := &Tasks{}
							inc := RegisterFunc(ts, "inc", func(x int) int { return x + 1 })
							echo := RegisterFunc(ts, "echo", func(s string) string { return s })
							return Run(context.Background(), c, ts, Options{Batch: batch, Progress: ProgressOff}, func(f *Farm) error {
								var n int
								var err error
								b.ResetTimer()
								if kind == "int" {
									var got []int
									got, err = Map(context.Background(), f, inc, make([]int, b.N))
									n = len(got)
								} else {
									var got []string
									got, err = Map(context.Background(), f, echo, make([]string, b.N))
									n = len(got)
								}
								b.StopTimer()
								if err == nil && n != b.N {
									err = fmt.Errorf("%d results", n)
								}
								return err
							})
						})
						if err != nil {
							b.Fatal(err)
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/task")
					})
				}
			}
		}
	}
}
