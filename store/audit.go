package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// AuditEntry records who did what to which subject.
type AuditEntry struct {
	ID        int64           `db:"id"`
	At        time.Time       `db:"at"`
	UserID    sql.NullInt64   `db:"user_id"`
	UserEmail sql.NullString  `db:"user_email"`
	Action    string          `db:"action"`
	Subject   string          `db:"subject"`
	Details   json.RawMessage `db:"details"`
}

// Audit records an action through q (the caller's transaction or the pool),
// so the record exists exactly when the change does. details must not hold
// secrets.
func Audit(ctx context.Context, q sqlx.ExecerContext, userID int64, action, subject string, details any) error {
	if details == nil {
		details = map[string]any{}
	}
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", action, err)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO audit_log (user_id, action, subject, details) VALUES ($1, $2, $3, $4)`,
		sql.NullInt64{Int64: userID, Valid: userID != 0}, action, subject, b)
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", action, err)
	}
	return nil
}

// AuditRecord is the audit entry a change writes in its own transaction:
// store methods that take one commit the change and the record together, so
// neither exists without the other.
type AuditRecord struct {
	By      int64  // the acting user; 0 for the system
	Action  string // e.g. "garanti.register"
	Subject string // what the action is about, e.g. "settings"
	Details any    // marshalled to JSON; must not hold secrets
}

// write records a through q, the change's transaction.
func (a AuditRecord) write(ctx context.Context, q sqlx.ExecerContext) error {
	return Audit(ctx, q, a.By, a.Action, a.Subject, a.Details)
}

// AuditTrail returns the entries about subject, newest first.
func (s *Store) AuditTrail(ctx context.Context, subject string, limit int) ([]AuditEntry, error) {
	var es []AuditEntry
	err := s.db.SelectContext(ctx, &es, `SELECT a.id, a.at, a.user_id, u.email AS user_email, a.action, a.subject, a.details
		FROM audit_log a LEFT JOIN users u ON u.id = a.user_id WHERE a.subject = $1 ORDER BY a.at DESC, a.id DESC LIMIT $2`, subject, limit)
	return es, err
}
