package main

import "testing"

// The fakes' ports follow ADDR unless SANDBOX_PORT says otherwise, so their
// pages keep their addresses across restarts.
func TestSandboxPortsAreStable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		setting, addr string
		want          int
		bad           bool
	}{
		{"", "127.0.0.1:8080", 8081, false},
		{"", "0.0.0.0:9000", 9001, false},
		{"", "127.0.0.1:0", 0, false},
		{"18000", "127.0.0.1:8080", 18000, false},
		{"0", "127.0.0.1:8080", 0, false},
		{"http", "127.0.0.1:8080", 0, true},
		{"65534", "127.0.0.1:8080", 0, true},
		{"", "no-port", 0, true},
	} {
		got, err := sandboxBasePort(tc.setting, tc.addr)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("SANDBOX_PORT=%q ADDR=%q: %d, %v; want %d (error: %v)", tc.setting, tc.addr, got, err, tc.want, tc.bad)
		}
	}
}
