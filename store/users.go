package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Role is what a user may do: viewers read, operators also change provider
// data, admins also manage users, settings and jobs.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin    Role = "admin"
	RoleOperator Role = "operator"
	RoleViewer   Role = "viewer"
)

// Roles lists the roles in the order forms show them.
var Roles = []Role{RoleAdmin, RoleOperator, RoleViewer}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleOperator || r == RoleViewer }

// AtLeast reports whether r grants everything min grants.
func (r Role) AtLeast(min Role) bool { return rank(r) >= rank(min) }

func rank(r Role) int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleOperator:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// ErrLastAdmin means the change would leave no active administrator.
var ErrLastAdmin = errors.New("store: the last active administrator cannot be removed")

// User is a person who signs in.
type User struct {
	ID           int64      `db:"id"`
	Email        string     `db:"email"`
	Name         string     `db:"name"`
	PasswordHash string     `db:"password_hash"`
	Role         Role       `db:"role"`
	Language     string     `db:"language"`
	DisabledAt   *time.Time `db:"disabled_at"`
	// FailedLogins and LockedUntil held the former per-account lock;
	// sign-in no longer reads them (see LoginLimits and login_failures).
	FailedLogins       int        `db:"failed_logins"`
	LockedUntil        *time.Time `db:"locked_until"`
	MustChangePassword bool       `db:"must_change_password"`
	CreatedAt          time.Time  `db:"created_at"`
	UpdatedAt          time.Time  `db:"updated_at"`
}

// Active reports whether the user may sign in.
func (u User) Active() bool { return u.DisabledAt == nil }

// NewUser is what creating a user needs; the password is already hashed.
type NewUser struct {
	Email, Name, PasswordHash string
	Role                      Role
	Language                  string
	MustChangePassword        bool
}

const userColumns = `id, email, name, password_hash, role, language, disabled_at, failed_logins, locked_until, must_change_password, created_at, updated_at`

// CreateUser adds a user; ErrConflict when the email is taken.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (User, error) {
	return createUser(ctx, s.db, n)
}

// CreateFirstAdmin adds the first user, an admin, only while there is no
// user at all; ErrConflict otherwise. Two instances racing at first start
// create one admin between them.
func (s *Store) CreateFirstAdmin(ctx context.Context, n NewUser) (User, error) {
	var u User
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM users)`); err != nil {
			return err
		}
		if exists {
			return ErrConflict
		}
		n.Role = RoleAdmin
		var err error
		u, err = createUser(ctx, tx, n)
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: create first admin: %w", err)
	}
	return u, nil
}

func createUser(ctx context.Context, q sqlx.QueryerContext, n NewUser) (User, error) {
	var u User
	err := sqlx.GetContext(ctx, q, &u, `INSERT INTO users (email, name, password_hash, role, language, must_change_password)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+userColumns,
		strings.TrimSpace(n.Email), strings.TrimSpace(n.Name), n.PasswordHash, n.Role, n.Language, n.MustChangePassword)
	if isUniqueViolation(err) {
		return User{}, ErrConflict
	}
	return u, err
}

// CountUsers returns how many users exist.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM users`)
	return n, err
}

// UserByID returns a user or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE id = $1`, id)
	return u, notFound(err)
}

// UserByEmail returns a user by email, ignoring case, or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	var u User
	err := s.db.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1)`, strings.TrimSpace(email))
	return u, notFound(err)
}

// ListUsers returns every user, by email.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var us []User
	err := s.db.SelectContext(ctx, &us, `SELECT `+userColumns+` FROM users ORDER BY lower(email)`)
	return us, err
}

// SetUserRole changes a user's role; ErrLastAdmin when it would demote the
// last active admin.
func (s *Store) SetUserRole(ctx context.Context, id int64, role Role) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if role != RoleAdmin {
			if err := guardLastAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		return execOne(ctx, tx, `UPDATE users SET role = $2, updated_at = now() WHERE id = $1`, id, role)
	})
}

// SetUserDisabled disables or enables a user. Disabling ends the user's
// sessions; ErrLastAdmin when it would disable the last active admin.
func (s *Store) SetUserDisabled(ctx context.Context, id int64, disabled bool) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if !disabled {
			if err := execOne(ctx, tx, `UPDATE users SET disabled_at = NULL, failed_logins = 0, locked_until = NULL, updated_at = now() WHERE id = $1`, id); err != nil {
				return err
			}
			// Re-enabling gives the user a fresh start at signing in.
			return clearLoginFailures(ctx, tx, id)
		}
		if err := guardLastAdmin(ctx, tx, id); err != nil {
			return err
		}
		if err := execOne(ctx, tx, `UPDATE users SET disabled_at = now(), updated_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		return err
	})
}

// guardLastAdmin fails when user id is the only active admin. The admin rows
// are locked so two concurrent demotions cannot both pass.
func guardLastAdmin(ctx context.Context, tx *sqlx.Tx, id int64) error {
	var admins []int64
	if err := tx.SelectContext(ctx, &admins, `SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL FOR UPDATE`); err != nil {
		return err
	}
	if len(admins) == 1 && admins[0] == id {
		return ErrLastAdmin
	}
	return nil
}

// SetPassword stores a new password hash and ends every session of the user
// except keepSession (the session hash of the caller, or nil).
func (s *Store) SetPassword(ctx context.Context, id int64, hash string, mustChange bool, keepSession []byte) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := execOne(ctx, tx, `UPDATE users SET password_hash = $2, must_change_password = $3, failed_logins = 0, locked_until = NULL, updated_at = now() WHERE id = $1`, id, hash, mustChange); err != nil {
			return err
		}
		// A new password (an administrator's reset) ends the delay and the
		// locks earned by guesses at the old one.
		if err := clearLoginFailures(ctx, tx, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR id_hash <> $2)`, id, keepSession)
		return err
	})
}

// SetUserLanguage stores the user's interface language ("" = from the browser).
func (s *Store) SetUserLanguage(ctx context.Context, id int64, lang string) error {
	return execOne(ctx, s.db, `UPDATE users SET language = $2, updated_at = now() WHERE id = $1`, id, lang)
}

// execOne runs a statement that must touch exactly one row.
func execOne(ctx context.Context, q sqlx.ExecerContext, query string, args ...any) error {
	res, err := q.ExecContext(ctx, query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
