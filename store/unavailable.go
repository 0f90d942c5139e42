package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"net"
	"net/url"
	"syscall"

	"github.com/lib/pq"
)

// Unavailable reports whether err means the database could not be reached
// or went away (a restart, a failover, a network cut, a full connection
// table), as opposed to a query that failed on its own. Such a failure is
// temporary and says nothing about the request: the handlers answer 503
// "try again" and keep the session, instead of treating the user as signed
// out or showing an internal error.
//
// Only the database's own failures count: a provider's unreachable server
// (an HTTP client error, *url.Error) or a truncated provider answer is not
// an outage of ours, and a timeout is not told apart from a slow query.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var netErr *net.OpError
	if errors.As(err, &netErr) {
		return true
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code {
		case "57P01", // admin_shutdown: the server is stopping
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: the server is starting up
			"53300": // too_many_connections
			return true
		}
		return pqErr.Code.Class() == "08" // connection_exception
	}
	return false
}
