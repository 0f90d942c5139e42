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
	CreatedBy                 int64 // the admin adding the user, for the audit log; 0 for the system
}

// UserSubject names a user in the audit log.
func UserSubject(id int64) string { return fmt.Sprintf("user:%d", id) }

const userColumns = `id, email, name, password_hash, role, language, disabled_at, failed_logins, locked_until, must_change_password, created_at, updated_at`

// CreateUser adds a user and records "user.create" by n.CreatedBy in the
// same transaction; ErrConflict when the email is taken.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (User, error) {
	var u User
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if u, err = createUser(ctx, tx, n); err != nil {
			return err
		}
		return Audit(ctx, tx, n.CreatedBy, "user.create", UserSubject(u.ID), map[string]any{"email": u.Email, "role": u.Role})
	})
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// CreateFirstAdmin adds the first user, an admin, only while there is no
// user at all; ErrConflict otherwise. Two instances racing at first start
// create one admin between them. The new admin is recorded as having set
// the product up ("user.setup"), in the same transaction.
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
		if u, err = createUser(ctx, tx, n); err != nil {
			return err
		}
		return Audit(ctx, tx, u.ID, "user.setup", UserSubject(u.ID), map[string]any{"email": u.Email})
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

// SetUserRole changes a user's role and records "user.role" (from, to) by
// admin by in the same transaction; ErrLastAdmin when it would demote the
// last active admin, ErrNotFound when there is no such user.
func (s *Store) SetUserRole(ctx context.Context, by, id int64, role Role) error {
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if role != RoleAdmin {
			// First, as every guarded change does: it locks the admin rows,
			// so two demotions wait for each other instead of deadlocking.
			if err := guardLastAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		var from Role
		if err := tx.GetContext(ctx, &from, `SELECT role FROM users WHERE id = $1 FOR UPDATE`, id); err != nil {
			return notFound(err)
		}
		if err := execOne(ctx, tx, `UPDATE users SET role = $2, updated_at = now() WHERE id = $1`, id, role); err != nil {
			return err
		}
		return Audit(ctx, tx, by, "user.role", UserSubject(id), map[string]any{"from": from, "to": role})
	})
	if err != nil {
		return fmt.Errorf("store: set user %d role: %w", id, err)
	}
	return nil
}

// SetUserDisabled disables or enables a user and records "user.disable" or
// "user.enable" by admin by in the same transaction. Disabling ends the
// user's sessions; ErrLastAdmin when it would disable the last active admin.
func (s *Store) SetUserDisabled(ctx context.Context, by, id int64, disabled bool) error {
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := setUserDisabled(ctx, tx, id, disabled); err != nil {
			return err
		}
		return Audit(ctx, tx, by, action, UserSubject(id), nil)
	})
	if err != nil {
		return fmt.Errorf("store: %s %d: %w", action, id, err)
	}
	return nil
}

func setUserDisabled(ctx context.Context, tx *sqlx.Tx, id int64, disabled bool) error {
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

// ResetPassword gives user id a temporary password (already hashed) that
// must be changed at the next sign-in, ends all the user's sessions, and
// records "user.reset_password" by admin by, in one transaction.
func (s *Store) ResetPassword(ctx context.Context, by, id int64, hash string) error {
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := setPassword(ctx, tx, id, hash, true, nil); err != nil {
			return err
		}
		return Audit(ctx, tx, by, "user.reset_password", UserSubject(id), nil)
	})
	if err != nil {
		return fmt.Errorf("store: reset password of user %d: %w", id, err)
	}
	return nil
}

// ChangePassword stores the new password hash a user chose, ends every
// session of theirs except keepSession (the caller's session hash, or nil),
// and records "user.change_password" by the user, in one transaction.
func (s *Store) ChangePassword(ctx context.Context, id int64, hash string, keepSession []byte) error {
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := setPassword(ctx, tx, id, hash, false, keepSession); err != nil {
			return err
		}
		return Audit(ctx, tx, id, "user.change_password", UserSubject(id), nil)
	})
	if err != nil {
		return fmt.Errorf("store: change password of user %d: %w", id, err)
	}
	return nil
}

// setPassword stores a new password hash and ends every session of the user
// except keepSession.
func setPassword(ctx context.Context, tx *sqlx.Tx, id int64, hash string, mustChange bool, keepSession []byte) error {
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
