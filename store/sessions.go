package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// SessionExpiredKey is set in a new session's values when the browser
// presented a valid cookie whose session has ended, so the sign-in page can
// say why the user is there. It is never saved.
const SessionExpiredKey = "_expired"

// SessionUserKey holds the signed-in user's id (int64) in session values.
const SessionUserKey = "uid"

// SessionStore is a gorilla sessions.Store kept in Postgres. The cookie
// carries only a random id, signed with the first of the keys (older keys
// still verify, so keys rotate without signing anyone out); the table holds
// the id's SHA-256, so a database dump cannot be replayed as cookies.
// Absolute and idle expiry are enforced here, on the server.
type SessionStore struct {
	st       *Store
	codecs   []securecookie.Codec
	options  sessions.Options
	idle     time.Duration
	absolute time.Duration
}

// SessionConfig configures a SessionStore.
type SessionConfig struct {
	Keys     [][]byte      // signing keys, newest first; each at least 32 bytes
	Secure   bool          // set the Secure flag (served over https)
	Idle     time.Duration // a session unused for this long ends
	Absolute time.Duration // a session ends this long after sign-in, used or not
}

// Sessions returns a session store over s.
func (s *Store) Sessions(c SessionConfig) (*SessionStore, error) {
	if len(c.Keys) == 0 {
		return nil, errors.New("store: sessions need at least one key")
	}
	var pairs [][]byte
	for _, k := range c.Keys {
		if len(k) < 32 {
			return nil, errors.New("store: session keys must be at least 32 bytes")
		}
		pairs = append(pairs, k, nil)
	}
	codecs := securecookie.CodecsFromPairs(pairs...)
	for _, cd := range codecs {
		cd.(*securecookie.SecureCookie).MaxAge(int(c.Absolute.Seconds()))
	}
	return &SessionStore{
		st:     s,
		codecs: codecs,
		options: sessions.Options{
			Path:     "/",
			MaxAge:   int(c.Absolute.Seconds()),
			HttpOnly: true,
			Secure:   c.Secure,
			SameSite: http.SameSiteLaxMode,
		},
		idle:     c.Idle,
		absolute: c.Absolute,
	}, nil
}

// Get returns the request's session, loading it once per request.
func (ss *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(ss, name)
}

// New loads the session named by the request's cookie, or starts a new one.
func (ss *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(ss, name)
	opts := ss.options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, ss.codecs...); err != nil {
		return sess, nil // a forged or outdated cookie is simply no session
	}
	values, err := ss.load(r.Context(), id)
	if errors.Is(err, ErrNotFound) {
		sess.Values[SessionExpiredKey] = true
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	sess.ID, sess.Values, sess.IsNew = id, values, false
	return sess, nil
}

// Save writes the session and its cookie; a negative MaxAge deletes both.
func (ss *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if _, err := ss.st.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hashID(sess.ID)); err != nil {
				return fmt.Errorf("store: delete session: %w", err)
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	delete(sess.Values, SessionExpiredKey)
	data, err := encodeValues(sess.Values)
	if err != nil {
		return err
	}
	uid, _ := sess.Values[SessionUserKey].(int64)
	userID := sql.NullInt64{Int64: uid, Valid: uid != 0}
	now := ss.st.now()
	if sess.ID == "" {
		sess.ID = newSessionID()
		_, err = ss.st.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, data, created_at, last_seen_at, expires_at)
			VALUES ($1, $2, $3, $4, $4, $5)`, hashID(sess.ID), userID, data, now, now.Add(ss.absolute))
	} else {
		_, err = ss.st.db.ExecContext(ctx, `UPDATE sessions SET user_id = $2, data = $3, last_seen_at = $4 WHERE id_hash = $1`,
			hashID(sess.ID), userID, data, now)
	}
	if err != nil {
		return fmt.Errorf("store: save session: %w", err)
	}
	encoded, err := securecookie.EncodeMulti(sess.Name(), sess.ID, ss.codecs...)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

// Renew gives sess a new id, deleting the old row, so that an id known
// before sign-in is worthless after it. The caller saves sess afterwards.
func (ss *SessionStore) Renew(ctx context.Context, sess *sessions.Session) error {
	if sess.ID != "" {
		if _, err := ss.st.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hashID(sess.ID)); err != nil {
			return fmt.Errorf("store: renew session: %w", err)
		}
	}
	sess.ID = ""
	return nil
}

// Hash returns the stored form of a session's id, to name it in
// SetPassword's keepSession.
func (ss *SessionStore) Hash(sess *sessions.Session) []byte {
	if sess.ID == "" {
		return nil
	}
	return hashID(sess.ID)
}

// sessionUserKey holds, for the length of one request, the signed-in user
// loaded with the session. It is never saved.
const sessionUserKey = "_user"

// SessionUser returns the active user the session belongs to, loaded with
// the session in the same query, or nil.
func SessionUser(sess *sessions.Session) *User {
	u, _ := sess.Values[sessionUserKey].(*User)
	if u == nil || !u.Active() {
		return nil
	}
	return u
}

// load returns the values of a live session and its user in one query (a
// signed-in page costs that query plus its own data), touching the
// session's last use at most once a minute.
func (ss *SessionStore) load(ctx context.Context, id string) (map[any]any, error) {
	now := ss.st.now()
	var row struct {
		Data     []byte    `db:"data"`
		LastSeen time.Time `db:"last_seen_at"`
		User
	}
	err := ss.st.db.GetContext(ctx, &row, `SELECT s.data, s.last_seen_at,
		COALESCE(u.id, 0) AS id, COALESCE(u.email, '') AS email, COALESCE(u.name, '') AS name,
		COALESCE(u.password_hash, '') AS password_hash, COALESCE(u.role, '') AS role,
		COALESCE(u.language, '') AS language, u.disabled_at, COALESCE(u.failed_logins, 0) AS failed_logins,
		u.locked_until, COALESCE(u.must_change_password, false) AS must_change_password,
		COALESCE(u.created_at, s.created_at) AS created_at, COALESCE(u.updated_at, s.created_at) AS updated_at
		FROM sessions s LEFT JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3`, hashID(id), now, now.Add(-ss.idle))
	if err != nil {
		return nil, notFound(err)
	}
	// Touch at most once a minute: idle expiry needs no finer grain, and a
	// page with many requests should not write on each.
	if now.Sub(row.LastSeen) > time.Minute {
		if _, err := ss.st.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1`, hashID(id), now); err != nil {
			return nil, err
		}
	}
	values, err := decodeValues(row.Data)
	if err != nil {
		return nil, err
	}
	if row.User.ID != 0 {
		u := row.User
		values[sessionUserKey] = &u
	}
	return values, nil
}

// DeleteExpiredSessions removes sessions past their absolute or idle expiry.
func (ss *SessionStore) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	now := ss.st.now()
	res, err := ss.st.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2`, now, now.Add(-ss.idle))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

func newSessionID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// encodeValues encodes what a session keeps, leaving out what only lives
// for one request.
func encodeValues(v map[any]any) ([]byte, error) {
	kept := make(map[any]any, len(v))
	for k, val := range v {
		if k != sessionUserKey && k != SessionExpiredKey {
			kept[k] = val
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(kept); err != nil {
		return nil, fmt.Errorf("store: encode session: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeValues(b []byte) (map[any]any, error) {
	v := map[any]any{}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return nil, fmt.Errorf("store: decode session: %w", err)
	}
	return v, nil
}
