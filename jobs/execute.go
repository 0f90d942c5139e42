package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"kasa/store"
)

// errLeaseLost is the cause of a handler context cancelled because another
// runner took the job over after our lease expired.
var errLeaseLost = errors.New("jobs: lease lost")

// work is one worker: claim a due job and run it, or sleep until kicked,
// notified or the poll interval passes. It stops claiming when ctx ends;
// handlers run under hctx, which outlives ctx by the shutdown grace.
func (r *Runner) work(ctx, hctx context.Context) {
	for ctx.Err() == nil {
		wake := r.wakeChan()
		j, ok, err := r.claim(ctx)
		if err != nil {
			r.log.Error("jobs: claim", "err", err)
		}
		if ok && ctx.Err() != nil {
			// Shutdown began while the claim was in flight: hand the job back
			// rather than start new work an instance is about to abandon.
			r.release(j)
			return
		}
		if ok {
			r.execute(hctx, j)
			continue
		}
		t := time.NewTimer(r.o.PollInterval)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// claim takes the oldest due job: a queued one whose run_at has come, or a
// running one whose lease expired because its instance died. SKIP LOCKED lets
// runners claim concurrently without waiting on each other's rows.
func (r *Runner) claim(ctx context.Context) (Job, bool, error) {
	// Detached from ctx: a claim cancelled mid-flight might commit unseen.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
	defer cancel()
	// A job whose instance died on its last attempt has nothing left to
	// claim: it fails, visibly, rather than being taken up forever.
	if _, err := r.db.ExecContext(dctx, `
		UPDATE jobs SET state = 'failed', finished_at = now(), updated_at = now(), locked_by = '', locked_until = NULL,
			last_error = left('the instance running it stopped and no attempts are left'
				|| CASE WHEN last_error <> '' THEN ' (last error: ' || last_error || ')' ELSE '' END, 2000)
		WHERE state = 'running' AND locked_until < now() AND attempts >= max_attempts`); err != nil {
		return Job{}, false, fmt.Errorf("jobs: claim: fail exhausted: %w", err)
	}
	var j Job
	err := r.db.GetContext(dctx, &j, `
		UPDATE jobs SET state = 'running', attempts = attempts + 1, locked_by = $1,
			locked_until = now() + $2 * interval '1 microsecond', updated_at = now()
		WHERE id = (
			SELECT id FROM jobs
			WHERE (state = 'queued' AND run_at <= now())
			   OR (state = 'running' AND locked_until < now() AND attempts < max_attempts)
			ORDER BY run_at, id
			FOR UPDATE SKIP LOCKED
			LIMIT 1
		)
		RETURNING `+columns, r.o.ID, r.o.Lease.Microseconds())
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, false, nil
	}
	if err != nil {
		return Job{}, false, fmt.Errorf("jobs: claim: %w", err)
	}
	r.onState(j.Kind, StateRunning)
	return j, true, nil
}

// execute runs j's handler under a heartbeat and records the outcome.
func (r *Runner) execute(hctx context.Context, j Job) {
	h, ok := r.handlers[j.Kind]
	if !ok {
		r.finish(j, Permanent(fmt.Errorf("jobs: no handler for kind %q", j.Kind)), nil)
		return
	}
	jctx, cancel := context.WithCancelCause(hctx)
	defer cancel(nil)
	stop := r.heartbeat(jctx, cancel, j)
	err := call(jctx, h, j)
	stop()
	var cause error
	if err != nil && jctx.Err() != nil {
		cause = context.Cause(jctx)
	}
	r.finish(j, err, cause)
}

// call runs h, turning a panic into an error so one bad job cannot take the
// process down.
func call(ctx context.Context, h HandlerFunc, j Job) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return h(ctx, j)
}

// heartbeat extends j's lease every Lease/3 until stop is called, so a long
// handler keeps its job. If the lease is gone (it expired during a stall and
// another runner claimed the job) it cancels the handler: its result would be
// discarded anyway.
func (r *Runner) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, j Job) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(max(r.o.Lease/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			dctx, dcancel := context.WithTimeout(ctx, r.o.Lease/3+time.Second)
			res, err := r.db.ExecContext(dctx, `
				UPDATE jobs SET locked_until = now() + $4 * interval '1 microsecond'
				WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'`,
				j.ID, r.o.ID, j.Attempts, r.o.Lease.Microseconds())
			dcancel()
			if err != nil {
				// The lease may still be valid; try again at the next tick.
				if ctx.Err() == nil {
					r.log.Warn("jobs: heartbeat", "job", j.ID, "err", err)
				}
				continue
			}
			if n, _ := res.RowsAffected(); n == 0 {
				r.log.Warn("jobs: lease lost", "job", j.ID, "kind", j.Kind)
				cancel(errLeaseLost)
				return
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// finish records the outcome of j's attempt. cause is why the handler's
// context was cancelled, if it was. Every update is fenced on our claim
// (locked_by, attempts, running): if the lease expired and another runner
// re-claimed the job, this slow runner's late result must not overwrite it.
func (r *Runner) finish(j Job, herr, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	const fence = ` WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'`
	var (
		state = StateQueued
		query string
		args  = []any{j.ID, r.o.ID, j.Attempts}
	)
	var perm *permanentError
	var later *retryAfterError
	switch {
	case herr == nil:
		state = StateDone
		query = `UPDATE jobs SET state = 'done', locked_until = NULL,
			finished_at = now(), updated_at = now()` + fence
	case errors.Is(cause, errShutdown):
		// Not the job's fault: give the attempt back and let the next
		// instance (or this one after a restart) run it at once.
		query = `UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_at = now(),
			locked_until = NULL, last_error = $4, updated_at = now()` + fence
		args = append(args, store.Truncate("interrupted by shutdown: "+herr.Error(), maxErrorLen))
	case errors.As(herr, &perm) || j.Attempts >= j.MaxAttempts:
		state = StateFailed
		query = `UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = $4,
			finished_at = now(), updated_at = now()` + fence
		args = append(args, store.Truncate(herr.Error(), maxErrorLen))
	default:
		delay := r.o.Backoff(j.Attempts)
		if errors.As(herr, &later) {
			delay = later.after
		}
		query = `UPDATE jobs SET state = 'queued', locked_until = NULL, last_error = $4,
			run_at = now() + $5 * interval '1 microsecond', updated_at = now()` + fence
		args = append(args, store.Truncate(herr.Error(), maxErrorLen), max(delay, 0).Microseconds())
	}
	if herr != nil {
		attrs := []any{"job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "state", state, "err", herr}
		if p, ok := errors.AsType[*panicError](herr); ok {
			attrs = append(attrs, "stack", string(p.stack))
		}
		r.log.Warn("jobs: attempt failed", attrs...)
	}
	res, err := r.db.ExecContext(ctx, query, args...)
	if err != nil {
		// The lease will expire and the job run again: handlers are idempotent.
		r.log.Error("jobs: finish", "job", j.ID, "err", err)
		return
	}
	if n, _ := res.RowsAffected(); n == 0 {
		r.log.Warn("jobs: result discarded, lease lost", "job", j.ID, "kind", j.Kind, "cause", cause)
		return
	}
	r.onState(j.Kind, state)
}

// release puts a claimed job back in the queue without counting the attempt.
func (r *Runner) release(j Job) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	res, err := r.db.ExecContext(ctx, `
		UPDATE jobs SET state = 'queued', attempts = attempts - 1, locked_until = NULL, updated_at = now()
		WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'`, j.ID, r.o.ID, j.Attempts)
	if err != nil {
		// The lease will expire and another runner will claim it.
		r.log.Error("jobs: release", "job", j.ID, "err", err)
		return
	}
	if n, _ := res.RowsAffected(); n > 0 {
		r.onState(j.Kind, StateQueued)
	}
}

func (r *Runner) onState(kind, state string) {
	if r.o.OnState != nil {
		r.o.OnState(kind, state)
	}
}
