// Package views renders the product's pages with templ. Components take view
// models; the request-wide values every page needs (language, signed-in
// user, sandbox flag, asset URLs, flashes) travel in the context as an Env.
package views

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"kasa/i18n"
	"kasa/static"
	"kasa/store"
)

// Env is what every page knows about the request.
type Env struct {
	Lang         i18n.Lang
	User         *store.User
	Sandbox      bool
	SandboxLinks []Link
	Assets       *static.Assets
	Path         string
	RequestID    string
	Flashes      []Flash
}

// Link is a labelled URL; Key names it for tests (data-testid).
type Link struct{ Key, Label, URL string }

// Flash is a one-time message: kind is success, error, info or warn.
type Flash struct{ Kind, Message string }

// Errors maps a form field's name to its message, already translated.
type Errors map[string]string

type envKey struct{}

// WithEnv returns ctx carrying e.
func WithEnv(ctx context.Context, e *Env) context.Context { return context.WithValue(ctx, envKey{}, e) }

func env(ctx context.Context) *Env {
	if e, ok := ctx.Value(envKey{}).(*Env); ok {
		return e
	}
	return &Env{Lang: i18n.FromContext(ctx), Assets: static.New()}
}

// T translates key in the request's language.
func T(ctx context.Context, key string, args ...any) string { return env(ctx).Lang.T(key, args...) }

func lang(ctx context.Context) i18n.Lang { return env(ctx).Lang }

func asset(ctx context.Context, name string) string { return env(ctx).Assets.Path(name) }

func user(ctx context.Context) *store.User { return env(ctx).User }

func isAdmin(ctx context.Context) bool {
	u := user(ctx)
	return u != nil && u.Role == store.RoleAdmin
}

func money(ctx context.Context, d decimal.Decimal, currency string) string {
	return lang(ctx).Money(d, currency)
}

func date(ctx context.Context, t time.Time) string { return lang(ctx).Date(t) }

func dateTime(ctx context.Context, t time.Time) string { return lang(ctx).DateTime(t) }

func dateTimePtr(ctx context.Context, t *time.Time) string {
	if t == nil {
		return ""
	}
	return lang(ctx).DateTime(*t)
}

func itoa(n int) string { return strconv.Itoa(n) }

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func intFmt(ctx context.Context, n int) string { return lang(ctx).Int(int64(n)) }

// Pager describes one page of a list and builds the links to the others.
type Pager struct {
	Page, PageSize, Total int
	Base                  string     // path of the list
	Query                 url.Values // the filters, kept on every link
}

// Pages is the number of pages, at least 1.
func (p Pager) Pages() int {
	if p.Total <= 0 || p.PageSize <= 0 {
		return 1
	}
	return (p.Total + p.PageSize - 1) / p.PageSize
}

// URL links to page n with the same filters.
func (p Pager) URL(n int) string {
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	if n > 1 {
		q.Set("page", strconv.Itoa(n))
	} else {
		q.Del("page")
	}
	if len(q) == 0 {
		return p.Base
	}
	return p.Base + "?" + q.Encode()
}

// First and Last are the 1-based positions of the page's rows.
func (p Pager) First() int { return min((p.Page-1)*p.PageSize+1, p.Total) }

// Last is the position of the page's last row.
func (p Pager) Last() int { return min(p.Page*p.PageSize, p.Total) }

// Sort describes a list's sort column and direction.
type Sort struct {
	Key  string
	Desc bool
	Base string
	// Query is the filters; the sort link sets sort and dir and drops page.
	Query url.Values
}

// URL links to sorting by key, toggling the direction when key is current.
func (s Sort) URL(key string) string {
	q := url.Values{}
	for k, v := range s.Query {
		q[k] = v
	}
	q.Del("page")
	q.Set("sort", key)
	dir := "asc"
	if key == s.Key && !s.Desc {
		dir = "desc"
	}
	q.Set("dir", dir)
	return s.Base + "?" + q.Encode()
}

// Dir is the aria-sort value of column key.
func (s Sort) Dir(key string) string {
	switch {
	case key != s.Key:
		return "none"
	case s.Desc:
		return "descending"
	}
	return "ascending"
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
