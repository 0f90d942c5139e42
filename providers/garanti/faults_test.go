package garanti_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kasa/providers/garanti"
)

// postFaults submits the fake bank's fault control page, as a person does
// in the sandbox.
func (e *env) postFaults(form url.Values) {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/_fake/faults", form)
	if err != nil {
		e.t.Fatal(err)
	}
	closeOrFail(e.t, resp.Body)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("control page: %d", resp.StatusCode)
	}
}

// Every E-code the control page offers reaches the client as the typed
// error with that code, so each of the product's explanations can be seen.
func TestControlPageInjectsEveryECode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.Get(e.srv.URL + "/_fake/faults")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	closeOrFail(t, resp.Body)
	var codes []string
	for _, m := range regexp.MustCompile(`<option value="(E\d{3})"`).FindAllStringSubmatch(string(page), -1) {
		codes = append(codes, m[1])
	}
	if len(codes) < 50 {
		t.Fatalf("the control page offers %d E-codes: %v", len(codes), codes)
	}
	ctx := context.Background()
	consentID := strings.Repeat("c", 36)
	for _, code := range codes {
		e.postFaults(url.Values{"answer": {code}, "answer_count": {"1"}})
		_, err := e.client.ConsentStatus(ctx, consentID)
		var ge *garanti.Error
		if !errors.As(err, &ge) || ge.Code != code || ge.Status != http.StatusBadRequest {
			t.Errorf("%s injected: client got %v", code, err)
		}
	}
	e.postFaults(url.Values{"answer": {"429"}})
	_, err = e.client.ConsentStatus(ctx, consentID)
	var ge *garanti.Error
	if !errors.As(err, &ge) || ge.Status != http.StatusTooManyRequests || ge.RetryAfter != time.Minute {
		t.Errorf("429 injected: client got %v", err)
	}
}

// A lost reply: the bank withdraws the consent, but its answer never
// arrives, so the client sees a transport error and not a bank error.
func TestControlPageLosesAReplyAfterTheBankActed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id, tok := e.connect(validRequest())
	e.postFaults(url.Values{"lost": {"1"}})
	_, err := e.client.DeleteConsent(context.Background(), id, tok.AccessToken, nil)
	var ge *garanti.Error
	if err == nil || errors.As(err, &ge) {
		t.Fatalf("delete with a lost reply: %v, want a transport error", err)
	}
	st, ok := e.fake.Consent(id)
	if !ok || st.Status != "I" {
		t.Fatalf("the bank did not act on the lost request: %+v", st)
	}
}
