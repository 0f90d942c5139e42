package jobs

import (
	"math/rand/v2"
	"time"
)

const (
	backoffBase = time.Second
	backoffCap  = time.Hour
)

// DefaultBackoff is the delay before attempt+1 after attempt failed:
// 1s doubling per attempt, capped at 1h, less up to 25% random jitter so jobs
// that failed together (a provider outage) do not retry in lockstep.
func DefaultBackoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 32 { // beyond that the shift overflows; the cap applies anyway
		d = min(backoffBase<<(attempt-1), backoffCap)
	}
	return d - rand.N(d/4+1)
}
