package sandbox

import (
	"net"
	"net/url"
	"strconv"
	"testing"
)

// freeBase finds three consecutive free loopback ports.
func freeBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		base := ln.Addr().(*net.TCPAddr).Port
		if err := ln.Close(); err != nil {
			t.Fatal(err)
		}
		ok := base+2 < 65536
		for i := 1; ok && i < 3; i++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
			if ok = err == nil; ok {
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no three consecutive free ports")
	return 0
}

func portOf(t *testing.T, raw string) int {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

// The fakes come back on the same ports after a restart, so their pages
// stay bookmarkable; a taken port moves one fake and says so.
func TestSandboxFakesKeepTheirPortsAcrossRestarts(t *testing.T) {
	base := freeBase(t)
	for restart := range 2 {
		sb, err := StartFakes(Options{BasePort: base})
		if err != nil {
			t.Fatal(err)
		}
		got := []int{portOf(t, sb.FinrotaURL), portOf(t, sb.GarantiURL), portOf(t, sb.VakifBankURL)}
		if err := sb.Close(); err != nil {
			t.Fatal(err)
		}
		if got[0] != base || got[1] != base+1 || got[2] != base+2 || len(sb.Moved) != 0 {
			t.Fatalf("start %d: ports %v (moved %v), want %d, %d, %d", restart, got, sb.Moved, base, base+1, base+2)
		}
	}

	taken, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+1))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := taken.Close(); err != nil {
			t.Error(err)
		}
	}()
	sb, err := StartFakes(Options{BasePort: base})
	if err != nil {
		t.Fatalf("a taken port stopped the sandbox: %v", err)
	}
	defer func() {
		if err := sb.Close(); err != nil {
			t.Error(err)
		}
	}()
	if p := portOf(t, sb.GarantiURL); p == base+1 || p == 0 || len(sb.Moved) != 1 {
		t.Fatalf("Garanti on %d, moved %v", p, sb.Moved)
	}
	if portOf(t, sb.FinrotaURL) != base || portOf(t, sb.VakifBankURL) != base+2 {
		t.Fatalf("the other fakes moved too: %s %s", sb.FinrotaURL, sb.VakifBankURL)
	}
}
