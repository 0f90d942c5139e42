package handlers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"

	"kasa/i18n"
)

// TestRenderTemplateErrorIsClean500 shows that a component failing half-way
// yields the generic error page with 500, not the half-written page under
// the status the handler meant.
func TestRenderTemplateErrorIsClean500(t *testing.T) {
	t.Parallel()
	h := &Handler{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	broken := templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, "<p>half a page"); err != nil {
			return err
		}
		return errors.New("template failed")
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(i18n.WithLang(req.Context(), i18n.EN))
	rec := httptest.NewRecorder()

	h.render(rec, req, http.StatusOK, broken)

	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "half a page") || strings.Contains(body, "template failed") {
		t.Fatalf("body shows the broken output or the internal error: %q", body)
	}
	if !strings.Contains(body, "An unexpected error occurred") {
		t.Fatalf("body is not the generic error page: %q", body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
}

// TestRenderErrorPageFailureIsPlain500 shows that when the error page itself
// fails, the answer is still a 500, without recursion.
func TestRenderErrorPageFailureIsPlain500(t *testing.T) {
	t.Parallel()
	h := &Handler{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	broken := templ.ComponentFunc(func(context.Context, io.Writer) error { return errors.New("template failed") })
	rec := httptest.NewRecorder()

	h.render(rec, httptest.NewRequest(http.MethodGet, "/", nil), http.StatusInternalServerError, broken)

	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "template failed") {
		t.Fatalf("status = %d, body = %q", rec.Code, rec.Body.String())
	}
}
