package finrota_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"kasa/providers/finrota"
	"kasa/providers/finrota/finrotatest"
)

// controlPage serves the harness's fake on its own address, for posting its
// fault page as a person does in the sandbox.
func controlPage(t *testing.T, h *harness) func(form url.Values) {
	ctl := httptest.NewServer(h.fake)
	t.Cleanup(ctl.Close)
	return func(form url.Values) {
		t.Helper()
		resp, err := http.PostForm(ctl.URL+"/_fake/faults", form)
		if err != nil {
			t.Fatal(err)
		}
		closeOrFail(t, resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("control page: %d", resp.StatusCode)
		}
	}
}

// Every 4xx of the contract, in both envelopes, injected on the control
// page reaches the client as the typed error with that status and code.
func TestControlPageInjectsEvery4xxEnvelope(t *testing.T) {
	t.Parallel()
	h := newHarness(t, finrotatest.Options{})
	post := controlPage(t, h)
	ctx := context.Background()
	// A first call fetches the token, so the injected answer meets the save.
	if _, err := h.client.Create(ctx, sampleDebt("ERP-WARM")); err != nil {
		t.Fatal(err)
	}
	for i, status := range []int{400, 401, 403, 404, 409, 422, 429} {
		for _, shape := range []string{"status", "gateway"} {
			key := strconv.Itoa(status) + "-" + shape
			// A 401 is retried once after renewing the token: both fail.
			post(url.Values{"answer": {key}, "answer_count": {"2"}})
			_, err := h.client.Create(ctx, sampleDebt("ERP-F"+strconv.Itoa(i)+shape))
			var fe *finrota.Error
			if !errors.As(err, &fe) || fe.Status != status || fe.Code != strconv.Itoa(status) || fe.Message == "" {
				t.Errorf("%s injected: client got %v", key, err)
			}
			post(url.Values{"reset": {"1"}})
		}
	}
}

// A lost reply: Finrota creates the debt, but the answer never arrives, so
// the client sees a transport error and the debt exists all the same.
func TestControlPageLosesAReplyAfterFinrotaActed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, finrotatest.Options{})
	post := controlPage(t, h)
	ctx := context.Background()
	if _, err := h.client.Create(ctx, sampleDebt("ERP-WARM")); err != nil {
		t.Fatal(err)
	}
	post(url.Values{"lost": {"1"}})
	_, err := h.client.Create(ctx, sampleDebt("ERP-LOST"))
	var fe *finrota.Error
	if err == nil || errors.As(err, &fe) {
		t.Fatalf("create with a lost reply: %v, want a transport error", err)
	}
	if _, ok := h.fake.Debt("ERP-LOST"); !ok {
		t.Fatal("Finrota did not act on the request whose reply was lost")
	}
}
