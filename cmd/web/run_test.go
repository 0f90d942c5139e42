package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kasa/eventually"
	"kasa/store"
	"kasa/store/storetest"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// `make run` says what it does before the long first build, and Ctrl-C (a
// SIGINT to the terminal's process group) stops the product gracefully,
// without make reporting a failure.
func TestMakeRunStopsGracefullyOnCtrlC(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build the binary: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	closeOrFail(t, ln)
	sessKey := make([]byte, 32)
	if _, err := rand.Read(sessKey); err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "-C", root, "run",
		"GO="+goBin, "BIN="+filepath.Join(t.TempDir(), "kasa"))
	cmd.Env = append(os.Environ(),
		"ADDR="+addr,
		"DATABASE_URL="+storetest.URL(t),
		"APP_ENCRYPTION_KEYS="+store.NewKey("run"),
		"SESSION_KEYS="+base64.StdEncoding.EncodeToString(sessKey),
		"SANDBOX=false",
		"LOG_LEVEL=info",
	)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, like a terminal's foreground job. A test run
	// in the background inherits SIGINT ignored; handling it here for the
	// moment of the start gives the child the default disposition, as a
	// terminal would.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	err = cmd.Start()
	signal.Reset(os.Interrupt)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			// The test failed before stopping it; what the kill and the
			// exit say only helps to read that failure.
			if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
				t.Logf("kill make run: %v", err)
			}
			if err := <-done; err != nil {
				t.Logf("make run ended: %v", err)
			}
		}
	})

	// The first build may take minutes on a busy machine: poll until the
	// product answers or make gives up.
	eventually.Within(t, 8*time.Minute, "make run to serve", func() error {
		select {
		case err := <-done:
			t.Fatalf("make run ended before serving: %v\n%s", err, out.String())
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return fmt.Errorf("%v; output so far:\n%s", err, out.String())
		}
		closeOrFail(t, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %d; output so far:\n%s", resp.StatusCode, out.String())
		}
		return nil
	})
	if first := strings.SplitN(out.String(), "\n", 2)[0]; !strings.Contains(first, "building") {
		t.Errorf("make run printed %q first, want a word about the build", first)
	}

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Logf("make run ended: %v", err) // the logs below say whether it stopped well
		}
	case <-time.After(time.Minute):
		t.Fatalf("make run did not stop after Ctrl-C:\n%s", out.String())
	}
	logs := out.String()
	if !strings.Contains(logs, "msg=stopped") {
		t.Errorf("the product did not stop gracefully:\n%s", logs)
	}
	if strings.Contains(logs, "make: ***") {
		t.Errorf("make reported the graceful stop as a failure:\n%s", logs)
	}
}
