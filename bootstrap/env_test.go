package bootstrap

import (
	"strings"
	"testing"
	"time"
)

func TestParseEnv(t *testing.T) {
	base := map[string]string{
		EnvRank: "1", EnvSize: "4", EnvLocalRank: "1", EnvLocalSize: "2", EnvJobID: "00112233aabbccdd",
		EnvAddr: "127.0.0.1:5000", EnvSecret: "00ff10", EnvHost: "10.0.0.1", EnvTransport: "shm", EnvBind: "none",
		EnvSpinWait: "20us", EnvVerbose: "1", EnvCMA: "1", EnvWait: "yield",
	}
	with := func(k, v string) func(string) string {
		return func(name string) string {
			if name == k {
				return v
			}
			return base[name]
		}
	}
	e, err := parseEnv(with("", ""))
	if err != nil {
		t.Fatal(err)
	}
	if e.Rank != 1 || e.Size != 4 || e.LocalRank != 1 || e.LocalSize != 2 || e.JobID != "00112233aabbccdd" ||
		e.Addr != "127.0.0.1:5000" || string(e.Secret) != "\x00\xff\x10" || e.Host != "10.0.0.1" ||
		e.Transport != "shm" || e.Bind != "none" || e.SpinWait == nil || *e.SpinWait != 20*time.Microsecond || !e.Verbose || !e.CMA || e.Wait != "yield" {
		t.Errorf("parseEnv = %+v", e)
	}
	e, err = parseEnv(func(name string) string {
		switch name {
		case EnvRank:
			return "0"
		case EnvSize:
			return "1"
		case EnvJobID:
			return "j"
		case EnvSecret:
			return "01"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.Transport != "auto" || e.Bind != "core" || e.LocalSize != 1 || e.SpinWait != nil || e.Verbose {
		t.Errorf("defaults: %+v", e)
	}
	for _, tc := range []struct{ key, val, want string }{
		{EnvRank, "", "GOMPI_RANK is not set"},
		{EnvRank, "x", `GOMPI_RANK="x"`},
		{EnvRank, "4", "not below GOMPI_SIZE=4"},
		{EnvSize, "0", `GOMPI_SIZE="0"`},
		{EnvLocalRank, "2", "do not fit"},
		{EnvLocalSize, "-1", `GOMPI_LOCAL_SIZE="-1"`},
		{EnvSecret, "zz", "GOMPI_SECRET is not a hex string"},
		{EnvSecret, "", "GOMPI_SECRET is not set"},
		{EnvAddr, "", "GOMPI_BOOTSTRAP is not set"},
		{EnvTransport, "udp", `GOMPI_TRANSPORT="udp"`},
		{EnvBind, "socket", `GOMPI_BIND="socket"`},
		{EnvSpinWait, "fast", `GOMPI_SPIN_WAIT="fast"`},
		{EnvSpinWait, "-1s", `GOMPI_SPIN_WAIT="-1s"`},
		{EnvCMA, "no", `GOMPI_SHM_CMA="no"`},
		{EnvWait, "sleep", `GOMPI_WAIT="sleep"`},
	} {
		_, err := parseEnv(with(tc.key, tc.val))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s=%q: error %v, want one containing %q", tc.key, tc.val, err, tc.want)
		}
	}
}
