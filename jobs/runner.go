package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// HandlerFunc does the work of one job kind. It returns nil when the work is
// done; an error retries it with backoff (see Permanent and RetryAfter). A
// job may run more than once (a lost lease, a crash after the work but before
// the commit), so handlers must be idempotent. ctx is cancelled when the
// runner shuts down past its grace period or loses the job's lease.
type HandlerFunc func(ctx context.Context, j Job) error

// Schedule enqueues a job of Kind once per period of length Every, aligned to
// UTC (Every of 24h runs at midnight UTC). The job's unique key is
// kind+"@"+period start in RFC 3339, so several instances enqueue one job per
// period between them. Every should be whole seconds: the key has no fraction.
type Schedule struct {
	Kind    string
	Every   time.Duration
	Payload any
}

// Options configures a Runner; zero values take the documented defaults.
type Options struct {
	// ID names this instance in locked_by; default hostname-pid-random.
	ID string
	// Workers is how many jobs run at once; default 2.
	Workers int
	// Lease is how long a claimed job is ours without a heartbeat; default 1
	// minute. It is extended every Lease/3 while the handler runs, so only a
	// dead instance's jobs expire and are claimed again.
	Lease time.Duration
	// PollInterval is how often idle workers look for due jobs when no
	// notification arrives (retries coming due, a lost LISTEN); default 5s.
	PollInterval time.Duration
	// ListenURL is the database URL to LISTEN on Channel; empty polls only.
	ListenURL string
	// Backoff is the delay after a failed attempt; default DefaultBackoff.
	Backoff func(attempt int) time.Duration
	// ShutdownGrace is how long Run waits for in-flight handlers once its ctx
	// ends before it cancels their contexts; default 30s.
	ShutdownGrace time.Duration
	// Schedules are enqueued once per period.
	Schedules []Schedule
	// Logger receives failures and lost leases; default slog.Default().
	Logger *slog.Logger
	// Now decides the current schedule period; default time.Now. Due times
	// and leases use the database's clock, shared by every instance.
	Now func() time.Time
	// OnState, if set, is called after each transition the runner makes
	// (running, done, failed, and queued for a retry), e.g. for metrics.
	OnState func(kind, state string)
}

// Runner claims due jobs from the jobs table and runs their handlers. Any
// number of runners, in one process or many, may share a database.
type Runner struct {
	db       *sqlx.DB
	handlers map[string]HandlerFunc
	o        Options
	log      *slog.Logger

	mu   sync.Mutex
	wake chan struct{} // closed and replaced by Kick
}

// errShutdown is the cause of handler contexts cancelled after the grace.
var errShutdown = errors.New("jobs: runner shut down")

// abandonAfter bounds how long Run waits, after cancelling handler contexts,
// for handlers that ignore them; their leases then expire and another
// instance takes the jobs over.
const abandonAfter = 5 * time.Second

// dbTimeout bounds the runner's own statements, which run on contexts
// detached from Run's so a shutdown never leaves a claim or result half-done.
const dbTimeout = 30 * time.Second

// NewRunner returns a Runner over db that runs each kind with its handler.
func NewRunner(db *sqlx.DB, handlers map[string]HandlerFunc, o Options) *Runner {
	if o.ID == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		rand.Read(b)
		o.ID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.Backoff == nil {
		o.Backoff = DefaultBackoff
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	hs := make(map[string]HandlerFunc, len(handlers))
	for k, h := range handlers {
		hs[k] = h
	}
	return &Runner{
		db:       db,
		handlers: hs,
		o:        o,
		log:      o.Logger.With("runner", o.ID),
		wake:     make(chan struct{}),
	}
}

// Kick wakes the runner's idle workers now, e.g. after an enqueue in this
// process when there is no ListenURL.
func (r *Runner) Kick() {
	r.mu.Lock()
	close(r.wake)
	r.wake = make(chan struct{})
	r.mu.Unlock()
}

// wakeChan returns the channel the next Kick closes. A worker takes it before
// it looks for a job, so a Kick during the look is not lost.
func (r *Runner) wakeChan() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wake
}

// Run claims and runs jobs until ctx ends, and enqueues the schedules' jobs
// for each period. When ctx ends it stops claiming and waits up to
// ShutdownGrace for in-flight handlers, then cancels their contexts. A
// handler interrupted that way is queued again without using up an attempt.
// Run returns nil after a clean shutdown.
func (r *Runner) Run(ctx context.Context) error {
	// Handlers outlive ctx by the grace period, so they get their own context.
	hctx, hcancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer hcancel(errShutdown)

	var bg sync.WaitGroup
	if r.o.ListenURL != "" {
		r.listen(ctx, &bg)
	}
	for _, s := range r.o.Schedules {
		if _, ok := r.handlers[s.Kind]; !ok {
			r.log.Warn("jobs: schedule without handler", "kind", s.Kind)
		}
		bg.Go(func() { r.schedule(ctx, s) })
	}
	var workers sync.WaitGroup
	for range r.o.Workers {
		workers.Go(func() { r.work(ctx, hctx) })
	}

	<-ctx.Done()
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-time.After(r.o.ShutdownGrace):
		r.log.Warn("jobs: shutdown grace over, cancelling handlers")
		hcancel(errShutdown)
		select {
		case <-done:
		case <-time.After(abandonAfter):
			err = errors.New("jobs: shutdown: handlers ignored cancellation; their leases will expire")
		}
	}
	bg.Wait()
	return err
}

// listenWait bounds how long Run waits for LISTEN before starting workers. It
// waits at all so that a job enqueued just after Run starts is not missed
// until the next poll; past it, the listener keeps connecting in the
// background and kicks the workers when it does.
const listenWait = 5 * time.Second

// listen wakes the workers on every notification on Channel until ctx ends.
func (r *Runner) listen(ctx context.Context, bg *sync.WaitGroup) {
	l := pq.NewListener(r.o.ListenURL, 100*time.Millisecond, 30*time.Second,
		func(ev pq.ListenerEventType, err error) {
			if err != nil {
				r.log.Warn("jobs: listen", "event", ev, "err", err)
			}
		})
	ready := make(chan error, 1)
	go func() { ready <- l.Listen(Channel) }()
	// Not tracked by bg: after Close, pq closes Notify only once its
	// reconnect sleep (up to 30s while the database is unreachable) ends, and
	// shutdown should not wait for that. Until then it only kicks.
	go func() {
		// A nil notification means the connection was re-established and
		// notifications may have been missed: look for jobs anyway.
		for range l.Notify {
			r.Kick()
		}
	}()
	bg.Go(func() {
		// A connection that died silently is only noticed when used.
		t := time.NewTicker(90 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				if err := l.Close(); err != nil {
					r.log.Warn("jobs: listen: close", "err", err)
				}
				return
			case <-t.C:
				// A failed ping makes pq reconnect; the event callback
				// above reports how that goes.
				if err := l.Ping(); err != nil {
					r.log.Debug("jobs: listen: ping", "err", err)
				}
			}
		}
	})
	select {
	case err := <-ready:
		if err != nil {
			r.log.Warn("jobs: listen", "err", err)
		}
	case <-time.After(listenWait):
		r.log.Warn("jobs: listen: not connected yet; polling meanwhile")
	case <-ctx.Done():
	}
}

// schedule enqueues s's job once per period until ctx ends. It looks at
// least every PollInterval, so a clock change (or a test moving Now) is seen
// promptly; the unique key makes the extra looks harmless.
func (r *Runner) schedule(ctx context.Context, s Schedule) {
	if s.Every <= 0 {
		r.log.Error("jobs: schedule needs a positive Every", "kind", s.Kind)
		return
	}
	var last string
	for {
		now := r.o.Now().UTC()
		start := now.Truncate(s.Every)
		if key := s.Kind + "@" + start.Format(time.RFC3339); key != last {
			_, err := Enqueue(ctx, r.db, s.Kind, s.Payload, UniqueKey(key))
			switch {
			case err == nil:
				last = key
				r.Kick()
			case errors.Is(err, ErrDuplicate):
				last = key // another instance, or an earlier run, has it
			case ctx.Err() == nil:
				r.log.Error("jobs: schedule", "kind", s.Kind, "err", err)
			}
		}
		t := time.NewTimer(min(start.Add(s.Every).Sub(now), r.o.PollInterval))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
