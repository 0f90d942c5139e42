// Package e2e drives the real binary, started in sandbox mode against the
// provider fakes, with a real headless Chromium. One browser serves the test
// binary; each test gets its own tab, its own database and its own server.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kasa/eventually"
	"kasa/store"
	"kasa/store/storetest"
)

const (
	adminEmail    = "admin@kasa.test"
	adminPassword = "correct horse battery"
)

var (
	binary     string
	browserCtx context.Context
)

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kasa-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: clean up:", err)
		}
	}()
	binary = filepath.Join(dir, "kasa")
	if out, err := exec.Command("go", "build", "-o", binary, "kasa/cmd/web").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build: %v\n%s", err, out)
		return 1
	}
	chromium, err := findChromium()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "chromium")),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	var cancelBrowser context.CancelFunc
	browserCtx, cancelBrowser = chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	if err := chromedp.Do(browserCtx); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start chromium:", err)
		return 1
	}
	return storetest.Run(m)
}

func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium found: install the chromium package (.ci/run does)")
}

// app is one running instance of the product.
type app struct {
	URL  string
	DB   string
	cmd  *exec.Cmd
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startApp runs the binary in sandbox mode on a free port over a fresh
// database, with the first admin created from the environment.
func startApp(t *testing.T, env ...string) *app {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	sessKey := make([]byte, 32)
	rand.Read(sessKey)
	a := &app{URL: "http://" + addr, DB: storetest.URL(t), logs: &syncBuffer{}}
	a.cmd = exec.Command(binary)
	a.cmd.Env = append(os.Environ(),
		"ADDR="+addr,
		"DATABASE_URL="+a.DB,
		"APP_ENCRYPTION_KEYS="+store.NewKey("e2e"),
		"SESSION_KEYS="+base64.StdEncoding.EncodeToString(sessKey),
		"ADMIN_EMAIL="+adminEmail,
		"ADMIN_PASSWORD="+adminPassword,
		"SANDBOX=true",
		"LOG_LEVEL=warn",
	)
	a.cmd.Env = append(a.cmd.Env, env...)
	a.cmd.Stdout, a.cmd.Stderr = a.logs, a.logs
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a.cmd.ProcessState != nil {
			return // the test stopped it
		}
		// The test is over: how the server stops only helps to read a
		// failure, so it is logged, with the server's own log below.
		if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Logf("stop the server: %v", err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			if err := a.cmd.Wait(); err != nil {
				t.Logf("server ended: %v", err)
			}
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			if err := a.cmd.Process.Kill(); err != nil {
				t.Logf("kill the server: %v", err)
			}
			<-done
		}
		if t.Failed() {
			t.Logf("server log:\n%s", a.logs.String())
		}
	})
	// The cleanup above prints the server's log should this fail.
	eventually.That(t, "the server to be ready", func() error {
		resp, err := http.Get(a.URL + "/readyz")
		if err != nil {
			return err
		}
		closeOrFail(t, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/readyz: %d", resp.StatusCode)
		}
		return nil
	})
	return a
}

// tab opens a browser tab for t, with a deadline on everything it does.
func tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx
}

// do runs browser actions and fails the test on the first error, saving a
// screenshot of the page for the failure report.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		shot(t, ctx, "failure")
		t.Fatalf("%v\n%s", err, pageState(ctx))
	}
}

// pageState describes where the browser is, for a failure message. It reads
// the tab past the test's deadline, which may be what failed.
func pageState(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	return "page " + loc + ":\n" + body
}

// click waits for sel and clicks it through the DOM. A click at mouse
// coordinates can land elsewhere when the layout shifts between finding the
// element and pressing, which a loaded machine makes likely.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			ok, err := chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true })()`, sel))(ctx, tg)
			if err == nil && !ok {
				err = fmt.Errorf("click: %s is gone", sel)
			}
			return err
		}),
	)
}

// text reads an element's visible text.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		shot(t, ctx, "failure")
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// count returns how many elements match sel right now.
func count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// shot saves a screenshot when E2E_SCREENSHOTS names a folder.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("E2E_SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return
	}
	// A screenshot only helps to read a failure; not saving one is no failure.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("screenshot: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, t.Name()+"-"+name+".png"), b, 0o644); err != nil {
		t.Logf("screenshot: %v", err)
	}
}

// signIn fills the sign-in form and waits for the signed-in frame.
func signIn(t *testing.T, ctx context.Context, a *app, email, password string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(a.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=login-form]`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), email),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), password),
		chromedp.Click(chromedp.CSS(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=current-user]`)),
	)
}
