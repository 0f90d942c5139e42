// Package tokens describes where provider clients keep their access tokens so
// that every instance of the product shares one, renewed by one instance at a
// time. The methods use only builtin types so that the Postgres store can
// satisfy Store without importing the providers.
package tokens

import (
	"context"
	"sync"
	"time"
)

// Fetch obtains a new token from the provider.
type Fetch = func(ctx context.Context) (value string, expiry time.Time, err error)

// Store keeps access tokens by key (a provider and, where tokens differ per
// consent, the consent).
type Store interface {
	// LoadToken returns the token under key, or "" when there is none.
	LoadToken(ctx context.Context, key string) (value string, expiry time.Time, err error)
	// RenewToken replaces the token under key with one from fetch, under an
	// exclusive lock. If another caller already replaced stale (the value the
	// caller found wanting) with a token valid beyond margin, that token is
	// returned and fetch is not called.
	RenewToken(ctx context.Context, key, stale string, margin time.Duration, fetch Fetch) (value string, expiry time.Time, err error)
}

// Memory is a Store for one process: tests and tools.
type Memory struct {
	mu     sync.Mutex
	tokens map[string]memoryToken
	Now    func() time.Time // time.Now when nil
}

type memoryToken struct {
	value  string
	expiry time.Time
}

// LoadToken implements Store.
func (m *Memory) LoadToken(_ context.Context, key string) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tokens[key]
	return t.value, t.expiry, nil
}

// RenewToken implements Store; the lock is held while fetch runs, as the
// database row lock is.
func (m *Memory) RenewToken(ctx context.Context, key, stale string, margin time.Duration, fetch Fetch) (string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	if t, ok := m.tokens[key]; ok && t.value != "" && t.value != stale && now().UTC().Before(t.expiry.Add(-margin)) {
		return t.value, t.expiry, nil
	}
	v, exp, err := fetch(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	if m.tokens == nil {
		m.tokens = map[string]memoryToken{}
	}
	m.tokens[key] = memoryToken{v, exp}
	return v, exp, nil
}
