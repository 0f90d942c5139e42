package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivertype"
)

// waitPoll is how often Wait looks at the job.
const waitPoll = 50 * time.Millisecond

// Finalized reports whether a job in state will not run again by itself:
// completed, cancelled or discarded.
func Finalized(state rivertype.JobState) bool {
	switch state {
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return true
	}
	return false
}

// Wait polls the job until it is finalized (see Finalized) or ctx ends, and
// returns it as last seen. A page that shows a job's outcome waits here
// briefly, then reads the outcome from its own tables.
func Wait(ctx context.Context, c *Client, id int64) (*rivertype.JobRow, error) {
	t := time.NewTicker(waitPoll)
	defer t.Stop()
	var last *rivertype.JobRow
	for {
		j, err := c.JobGet(ctx, id)
		if err != nil {
			return last, fmt.Errorf("queue: wait for job %d: %w", id, err)
		}
		last = j
		if Finalized(j.State) {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("queue: wait for job %d: %w", id, ctx.Err())
		case <-t.C:
		}
	}
}
