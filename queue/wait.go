package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// waitPoll is how often Wait looks at the job.
const waitPoll = 50 * time.Millisecond

// Finished reports whether a job in state will not run again by itself:
// completed, cancelled or discarded.
func Finished(state rivertype.JobState) bool {
	switch state {
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return true
	}
	return false
}

// Settled reports whether a job has an outcome a page can show: it is
// finished, or an attempt ended (it failed, or the provider asked to wait)
// and the job waits for its next one. Waiting through the backoff would
// tell the user nothing more.
func Settled(j *rivertype.JobRow) bool {
	if Finished(j.State) {
		return true
	}
	switch j.State {
	case rivertype.JobStateAvailable, rivertype.JobStateRetryable, rivertype.JobStateScheduled:
		return len(j.Errors) > 0 || snoozes(j) > 0
	}
	return false
}

// Wait polls the job until it is finished (see Finished) or ctx ends, and
// returns it as last seen.
func Wait(ctx context.Context, c *Client, id int64) (*rivertype.JobRow, error) {
	return waitFor(ctx, c, id, func(j *rivertype.JobRow) bool { return Finished(j.State) })
}

// WaitSettled polls the job until it is settled (see Settled) or ctx ends,
// and returns it as last seen. A page that shows a job's outcome waits here
// briefly, then reads the outcome from its own tables.
func WaitSettled(ctx context.Context, c *Client, id int64) (*rivertype.JobRow, error) {
	return waitFor(ctx, c, id, Settled)
}

func waitFor(ctx context.Context, c *Client, id int64, done func(*rivertype.JobRow) bool) (*rivertype.JobRow, error) {
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	var last *rivertype.JobRow
	for {
		j, err := c.JobGet(ctx, id)
		if err != nil {
			return last, fmt.Errorf("queue: wait for job %d: %w", id, err)
		}
		last = j
		if done(j) {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("queue: wait for job %d: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}

// Attempts is how many attempts a job has made, snoozes included: River
// does not count a snooze (a provider's Retry-After) as an attempt, but a
// job that waits out Retry-After has still tried, and its bound of
// attempts should hold.
func Attempts(j *rivertype.JobRow) int {
	return j.Attempt + snoozes(j)
}

func snoozes(j *rivertype.JobRow) int {
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(j.Metadata, &meta) // no metadata: no snoozes
	return meta.Snoozes
}
