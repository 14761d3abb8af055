package waits_test

import (
	"testing"
	"time"

	"github.com/gompi/gompi/internal/waits"
)

func TestReportText(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 10, 0, time.UTC)
	ago := func(s float64) time.Time { return now.Add(-time.Duration(s * float64(time.Second))) }
	cases := []struct {
		name string
		rep  waits.Report
		want string
	}{
		{"a receive", waits.Report{Time: now, Waits: []waits.Wait{
			{Op: "Recv", Peer: 1, Tag: 99, Bytes: 32, Comm: "world", From: -2, Since: ago(2.94)},
		}, Sites: []string{"main.main at main.go:19"}},
			"Recv(from rank 1, tag 99, 32 B) on world for 2.9 s; called from main.main at main.go:19"},
		{"a send to any tag's peer and a Sendrecv", waits.Report{Time: now, Waits: []waits.Wait{
			{Op: "Send", Send: true, Peer: 2, Tag: 5, Bytes: 1 << 20, Comm: "world", From: -2, Since: ago(3)},
			{Op: "Sendrecv", Send: true, Peer: 0, Tag: 7, Bytes: 8, Comm: "split", From: -1, Since: ago(1)},
		}}, "Send(to rank 2, tag 5, 1048576 B) on world for 3.0 s; Sendrecv(to rank 0, from any rank, tag 7, 8 B) on split for 1.0 s"},
		{"a collective's own message", waits.Report{Time: now, Waits: []waits.Wait{
			{Op: "Recv", Peer: -1, Tag: 12345, Bytes: 8, Comm: "world (collectives)", Internal: true, From: -2, Since: ago(4),
				Collective: "Allreduce", CollSince: ago(5)},
		}}, "in Allreduce on world, waiting for 5.0 s; Recv(from any rank) on world (collectives) for 4.0 s"},
		{"a phase", waits.Report{Time: now, Phase: "in Init, joining the job"}, "in Init, joining the job"},
		{"computing", waits.Report{Time: now}, "not waiting for a message (computing, or in a call that has not parked)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rep.Text(); got != tc.want {
				t.Errorf("Text() = %q\nwant     %q", got, tc.want)
			}
		})
	}
}
