package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// Finished reports whether a job is in a final state.
func Finished(state rivertype.JobState) bool {
	return state == rivertype.JobStateCompleted || state == rivertype.JobStateCancelled || state == rivertype.JobStateDiscarded
}

// Wait polls job id until it is finished (completed, cancelled or
// discarded) or ctx ends, and returns its last row; a handler waits briefly
// this way to show an outcome, and tests wait for a job.
func Wait(ctx context.Context, c *Client, id int64) (*rivertype.JobRow, error) {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		j, err := c.JobGet(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("queue: wait for job %d: %w", id, err)
		}
		if Finished(j.State) {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, fmt.Errorf("queue: wait for job %d: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// Attempts is how many attempts a job has made, snoozes included: River
// does not count a snooze (a provider's Retry-After) as an attempt, but a
// job that waits out Retry-After has still tried, and its bound of
// attempts should hold.
func Attempts(j *rivertype.JobRow) int {
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(j.Metadata, &meta) // no metadata: no snoozes
	return j.Attempt + meta.Snoozes
}
