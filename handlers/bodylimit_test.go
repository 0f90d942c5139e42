package handlers

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// byteReader is an endless stream of one byte, so a test can send a large
// body without holding it in memory.
type byteReader byte

func (b byteReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

// multipartBody is a multipart form with an email, a password and a file
// of size bytes, generated as it is read.
func multipartBody(size int64) (contentType string, body io.Reader, length int64) {
	const boundary = "kasa-test-boundary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.co\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nx\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	body = io.MultiReader(strings.NewReader(head), io.LimitReader(byteReader('a'), size), strings.NewReader(tail))
	return "multipart/form-data; boundary=" + boundary, body, int64(len(head)) + size + int64(len(tail))
}

// rawPost sends a POST over its own connection and reads the answer while
// the body is still being written: a server that refuses a large body
// answers early and closes, which would turn into a write error for
// http.Client. length -1 sends the body chunked.
func rawPost(t *testing.T, e *testEnv, path, contentType string, body io.Reader, length int64) (*http.Response, *goquery.Document) {
	t.Helper()
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer closeOrFail(t, conn)
	if err := conn.SetDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	if length < 0 {
		req.TransferEncoding = []string{"chunked"}
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept-Language", "en")
	go func() {
		_ = req.Write(conn) // fails once the server stops reading; the answer is what counts
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer closeOrFail(t, resp.Body)
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, doc
}

// TestLargeBodiesAreRefusedWithoutTempFilesOrMemory sends 20 MB to the
// sign-in and language forms, which take no upload: the answer is a clear
// 413, no temporary file stays behind and the process does not buffer the
// body. It does not run in parallel: TMPDIR, where multipart parsing puts
// its files, and the allocation counter it reads belong to the process.
func TestLargeBodiesAreRefusedWithoutTempFilesOrMemory(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	e := newTestEnv(t)
	e.createUser("someone@kasa.test", "viewer")
	const size = 20 << 20
	cases := []struct {
		name, path string
		size       int64
		chunked    bool
		form       bool
		want       int
		message    string
	}{
		{"upload to sign-in", "/login", size, false, false, http.StatusRequestEntityTooLarge, "too large"},
		{"upload to language switch", "/lang", size, false, false, http.StatusRequestEntityTooLarge, "too large"},
		// Beyond what multipart parsing keeps in memory, the rest went to a
		// temporary file that nothing removed.
		{"upload to sign-in past the in-memory part", "/login", 48 << 20, false, false, http.StatusRequestEntityTooLarge, "too large"},
		{"chunked form to sign-in", "/login", size, true, true, http.StatusRequestEntityTooLarge, "too large"},
		{"chunked upload to language switch", "/lang", size, true, false, http.StatusUnsupportedMediaType, "does not accept files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct, body, length := multipartBody(c.size)
			if c.form {
				ct = "application/x-www-form-urlencoded"
				body = io.MultiReader(strings.NewReader("email=a%40b.co&password="), io.LimitReader(byteReader('x'), c.size))
			}
			if c.chunked {
				length = -1
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			resp, doc := rawPost(t, e, c.path, ct, body, length)
			runtime.ReadMemStats(&after)
			if resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
			if msg := testID(doc, "error-message"); !strings.Contains(msg, c.message) {
				t.Errorf("message %q should say %q", msg, c.message)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 4<<20 {
				t.Errorf("the request allocated %d MB; the body must not be buffered", grown>>20)
			}
			entries, err := os.ReadDir(tmp)
			if err != nil {
				t.Fatal(err)
			}
			for _, en := range entries {
				t.Errorf("temporary file left behind: %s", en.Name())
			}
		})
	}
}

// TestSmallUploadIsRefusedWhereNoneIsExpected posts a small multipart form
// to sign-in: no form of the product uploads there, so it is refused
// before anything is parsed, and no temporary file is made.
func TestSmallUploadIsRefusedWhereNoneIsExpected(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.createUser("someone@kasa.test", "viewer")
	ct, body, length := multipartBody(1024)
	resp, doc := rawPost(t, e, "/login", ct, body, length)
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("status %d, want 415", resp.StatusCode)
	}
	if msg := testID(doc, "error-message"); !strings.Contains(msg, "does not accept files") {
		t.Errorf("message %q", msg)
	}
}

// TestUploadRouteRemovesItsTemporaryFiles registers a route that takes
// uploads, as a spreadsheet import would: the handler sees the file, which
// went to a temporary file past the in-memory part, and the file is gone
// once the request ends; past the route's limit the answer is 413, declared
// or not. It does not run in parallel: TMPDIR belongs to the process.
func TestUploadRouteRemovesItsTemporaryFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	e := newTestEnv(t)
	var got int64
	var during int
	e.h.mux.HandleFunc("POST /test-upload", func(w http.ResponseWriter, r *http.Request) {
		_, hdr, err := r.FormFile("f")
		if err != nil {
			t.Errorf("the handler cannot read the upload: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		got = hdr.Size
		entries, _ := os.ReadDir(tmp)
		during = len(entries)
		w.WriteHeader(http.StatusNoContent)
	})
	e.h.uploads["POST /test-upload"] = 8 << 20

	ct, body, length := multipartBody(4 << 20)
	resp, _ := rawPost(t, e, "/test-upload", ct, body, length)
	if resp.StatusCode != http.StatusNoContent || got != 4<<20 {
		t.Fatalf("accepted upload: status %d, file of %d bytes", resp.StatusCode, got)
	}
	if during != 1 {
		t.Errorf("%d temporary files during the request, want 1 (the part past memory)", during)
	}
	for _, length := range []int64{0, -1} {
		ct, body, declared := multipartBody(9 << 20)
		if length == 0 {
			length = declared
		}
		resp, doc := rawPost(t, e, "/test-upload", ct, body, length)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(testID(doc, "error-message"), "too large") {
			t.Errorf("upload over the limit (length %d): status %d, message %q", length, resp.StatusCode, testID(doc, "error-message"))
		}
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		t.Errorf("temporary file left behind: %s", en.Name())
	}
}
