package handlers

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"kasa/queue"
)

// queuedJob is a River job not yet worked, as the Garanti tests look at it.
type queuedJob struct {
	ID    int64
	State string
	RunAt time.Time
}

// queuedJobs lists the River jobs of kind waiting to run (scheduled, due or
// waiting for a retry), soonest first.
func queuedJobs(t *testing.T, e *testEnv, kind string) []queuedJob {
	t.Helper()
	var out []queuedJob
	rows, err := e.st.DB().Query(`SELECT id, state, scheduled_at FROM river_job WHERE kind = $1
		AND state IN ('available', 'scheduled', 'retryable') ORDER BY scheduled_at, id`, kind)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { noErr(t, rows.Close()) }()
	for rows.Next() {
		var j queuedJob
		noErr(t, rows.Scan(&j.ID, &j.State, &j.RunAt))
		out = append(out, j)
	}
	noErr(t, rows.Err())
	return out
}

// jobState returns a River job's state ("completed", "running", …).
func jobState(ctx context.Context, e *testEnv, id int64) rivertype.JobState {
	j, err := e.h.app.Jobs.JobGet(ctx, id)
	if err != nil {
		return ""
	}
	return j.State
}

// runJob inserts a job and waits until the product's workers finish it; it
// fails unless the job completed.
func runJob(ctx context.Context, e *testEnv, args river.JobArgs) error {
	res, err := e.h.app.Jobs.Insert(ctx, args, nil)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	j, err := queue.Wait(wctx, e.h.app.Jobs, res.Job.ID)
	if err != nil {
		return err
	}
	if j.State != rivertype.JobStateCompleted {
		return fmt.Errorf("job %s %s: %v", args.Kind(), j.State, j.Errors)
	}
	return nil
}
