package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"kasa/store"
	"kasa/store/storetest"
)

func TestUnavailableTellsAnOutageFromAFailedQuery(t *testing.T) {
	t.Parallel()
	// A server that is not there.
	_, err := store.Open(context.Background(), "postgres://postgres@127.0.0.1:1/none?sslmode=disable", storetest.Keyring(t))
	if !store.Unavailable(err) {
		t.Errorf("connection refused is not an outage: %v", err)
	}
	for _, code := range []pqerror.Code{"57P01", "57P03", "53300", "08006"} {
		if !store.Unavailable(fmt.Errorf("load: %w", &pq.Error{Code: code})) {
			t.Errorf("%s is not an outage", code)
		}
	}
	// A query that fails on a working database is not.
	st := storetest.New(t)
	_, err = st.DB().ExecContext(context.Background(), `SELECT no_such_column FROM users`)
	if err == nil || store.Unavailable(err) {
		t.Errorf("a bad query counts as an outage: %v", err)
	}
	// A provider that cannot be reached is not our database.
	_, err = http.Get("http://127.0.0.1:1/")
	if err == nil || store.Unavailable(fmt.Errorf("finrota: create debt: %w", err)) {
		t.Errorf("an unreachable provider counts as a database outage: %v", err)
	}
	if store.Unavailable(io.ErrUnexpectedEOF) || store.Unavailable(context.DeadlineExceeded) {
		t.Error("a truncated answer or a timeout counts as an outage")
	}
	if store.Unavailable(store.ErrNotFound) || store.Unavailable(errors.New("x")) || store.Unavailable(nil) {
		t.Error("ordinary errors count as an outage")
	}
}
