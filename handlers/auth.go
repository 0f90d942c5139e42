package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

// newDummyHash hashes a password nobody has. The hash is compared against
// when the email is unknown, so that a wrong email takes as long as a wrong
// password and reveals nothing.
func newDummyHash() ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("dummy password hash: %w", err)
	}
	return h, nil
}

// maxEmailLength is the longest email address there can be (RFC 5321).
const maxEmailLength = 254

// require wraps a handler so only signed-in, active users with at least role
// reach it. Anonymous users are sent to sign in (and back afterwards); users
// with too small a role get 403.
func (h *Handler) require(role store.Role, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u := currentUser(r.Context())
		if u == nil {
			if r.Method == http.MethodGet {
				next := r.URL.RequestURI()
				h.redirect(w, r, "/login?next="+url.QueryEscape(next))
				return
			}
			h.redirect(w, r, "/login")
			return
		}
		if u.MustChangePassword && !strings.HasPrefix(r.URL.Path, "/account") && r.URL.Path != "/logout" {
			h.redirect(w, r, "/account")
			return
		}
		if !u.Role.AtLeast(role) {
			h.forbidden(w, r)
			return
		}
		next(w, r)
	}
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if currentUser(r.Context()) != nil {
		h.redirect(w, r, "/")
		return
	}
	if n, err := h.store.CountUsers(r.Context()); err == nil && n == 0 {
		h.redirect(w, r, "/setup")
		return
	}
	form := views.LoginForm{Next: safeNext(r.URL.Query().Get("next"), "")}
	if s := h.session(r); s.Values[store.SessionExpiredKey] == true {
		form.Notice = i18n.FromContext(r.Context()).T("login.expired")
	}
	h.render(w, r, http.StatusOK, views.LoginPage(form))
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	form := views.LoginForm{
		Email:  strings.TrimSpace(r.PostFormValue("email")),
		Next:   safeNext(r.PostFormValue("next"), ""),
		Errors: views.Errors{},
	}
	password := r.PostFormValue("password")
	if form.Email == "" {
		form.Errors["email"] = lang.T("login.email.required")
	}
	if password == "" {
		form.Errors["password"] = lang.T("login.password.required")
	}
	textErrors(r, form.Errors)
	if len(form.Errors) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.LoginPage(form))
		return
	}
	// The per-address limit was applied before the form was read
	// (throttleSignIn). Then the account's delay and the lock of this
	// (account, address) pair, counted by the email as typed: an email with
	// no account is throttled exactly like one with, so the answers tell
	// nothing about which exist.
	if len(form.Email) > maxEmailLength {
		// No account has such an email; do not keep it as a throttle key.
		form.Error = lang.T("login.invalid")
		h.render(w, r, http.StatusUnauthorized, views.LoginPage(form))
		return
	}
	addr := clientAddr(r, h.cfg.TrustProxy)
	limits := h.loginLimits()
	wait, block, err := h.store.BeginLogin(ctx, form.Email, addr, limits)
	if err != nil {
		h.serverError(w, r, errorf("login", err))
		return
	}
	switch block {
	case store.LoginAccountDelay:
		h.loginThrottled(w, r, form, "login.delayed", wait)
		return
	case store.LoginPairLocked:
		h.loginThrottled(w, r, form, "login.locked", wait)
		return
	}
	user, err := h.store.UserByEmail(ctx, form.Email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.serverError(w, r, errorf("login", err))
		return
	}
	known := err == nil && user.Active()
	var hash []byte
	if err == nil {
		hash = []byte(user.PasswordHash)
	} else {
		var herr error
		if hash, herr = h.dummyHash(); herr != nil {
			h.serverError(w, r, errorf("login", herr))
			return
		}
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !known || !match {
		if err := h.store.RecordLoginFailure(ctx, form.Email, addr, limits); err != nil {
			h.serverError(w, r, errorf("login", err))
			return
		}
		form.Error = lang.T("login.invalid")
		h.render(w, r, http.StatusUnauthorized, views.LoginPage(form))
		return
	}
	if err := h.store.RecordLoginSuccess(ctx, form.Email, addr); err != nil {
		h.serverError(w, r, errorf("login", err))
		return
	}
	if err := h.signIn(w, r, user); err != nil {
		h.serverError(w, r, errorf("login", err))
		return
	}
	h.redirect(w, r, safeNext(form.Next, "/"))
}

// signIn starts a fresh session for user: a new id, so an id planted before
// sign-in is worthless after it.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request, user store.User) error {
	s := h.session(r)
	if err := h.sessions.Renew(r.Context(), s); err != nil {
		return err
	}
	s.Values[store.SessionUserKey] = user.ID
	if user.Language != "" {
		s.Values[sessionLangKey] = user.Language
	}
	return s.Save(r, w)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	s := h.session(r)
	lang := i18n.FromContext(r.Context())
	s.Options.MaxAge = -1
	if err := s.Save(r, w); err != nil {
		h.serverError(w, r, errorf("logout", err))
		return
	}
	// A fresh anonymous session carries the goodbye and the language.
	fresh, _ := h.sessions.New(r, sessionName)
	fresh.Values = map[any]any{sessionLangKey: string(lang)}
	fresh.AddFlash("info|"+lang.T("login.loggedout"), sessionFlashes)
	if err := fresh.Save(r, w); err != nil {
		h.log.Error("logout flash", "err", err)
	}
	h.redirect(w, r, "/login")
}

// setLanguage keeps the chosen language in the session (and on the user, so
// the next sign-in remembers it) and goes back where the user was.
func (h *Handler) setLanguage(w http.ResponseWriter, r *http.Request) {
	l, ok := i18n.Parse(r.PostFormValue("lang"))
	if !ok {
		h.renderError(w, r, http.StatusBadRequest, "error.badrequest")
		return
	}
	s := h.session(r)
	s.Values[sessionLangKey] = string(l)
	if err := s.Save(r, w); err != nil {
		h.serverError(w, r, errorf("set language", err))
		return
	}
	if u := currentUser(r.Context()); u != nil {
		if err := h.store.SetUserLanguage(r.Context(), u.ID, string(l)); err != nil {
			h.serverError(w, r, errorf("set language", err))
			return
		}
	}
	h.redirect(w, r, safeNext(r.PostFormValue("next"), "/"))
}

// setupPage offers the one-time form that creates the first admin; it
// exists only while there is no user.
func (h *Handler) setupPage(w http.ResponseWriter, r *http.Request) {
	if n, err := h.store.CountUsers(r.Context()); err != nil || n > 0 {
		h.notFound(w, r)
		return
	}
	h.render(w, r, http.StatusOK, views.SetupPage(views.UserForm{}))
}

func (h *Handler) setup(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if n, err := h.store.CountUsers(ctx); err != nil || n > 0 {
		h.notFound(w, r)
		return
	}
	lang := i18n.FromContext(ctx)
	form := views.UserForm{
		Email: strings.TrimSpace(r.PostFormValue("email")),
		Name:  strings.TrimSpace(r.PostFormValue("name")),
	}
	password := r.PostFormValue("password")
	form.Errors = validateUser(lang, form.Email, form.Name)
	validatePassword(lang, form.Errors, "password", password, r.PostFormValue("password_confirm"))
	textErrors(r, form.Errors)
	if len(form.Errors) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.SetupPage(form))
		return
	}
	hash, err := hashPassword(password)
	if err != nil {
		h.serverError(w, r, errorf("setup", err))
		return
	}
	user, err := h.store.CreateFirstAdmin(ctx, store.NewUser{Email: form.Email, Name: form.Name, PasswordHash: hash, Language: string(lang)})
	if errors.Is(err, store.ErrConflict) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("setup", err))
		return
	}
	if err := h.signIn(w, r, user); err != nil {
		h.serverError(w, r, errorf("setup", err))
		return
	}
	h.flash(w, r, "success", lang.T("setup.done"))
	h.redirect(w, r, "/")
}

// validateUser checks the fields every user form shares.
func validateUser(lang i18n.Lang, email, name string) views.Errors {
	errs := views.Errors{}
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || !strings.Contains(email, ".") {
		errs["email"] = lang.T("valid.email")
	}
	if name == "" {
		errs["name"] = lang.T("valid.name")
	}
	return errs
}

// validatePassword checks a new password and its confirmation.
func validatePassword(lang i18n.Lang, errs views.Errors, field, password, confirm string) {
	switch {
	case len([]rune(password)) < 10:
		errs[field] = lang.T("valid.password.short")
	case len(password) > 72: // bcrypt reads no further
		errs[field] = lang.T("valid.password.long")
	case password != confirm:
		errs[field+"_confirm"] = lang.T("valid.password.match")
	}
}

func hashPassword(p string) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(p), bcrypt.DefaultCost)
	return string(b), err
}

// humanDuration says a wait in whole seconds or minutes, rounded up.
func humanDuration(lang i18n.Lang, d time.Duration) string {
	if d < time.Minute {
		return lang.T("duration.seconds", int((d+time.Second-1)/time.Second))
	}
	return lang.T("duration.minutes", int((d+time.Minute-1)/time.Minute))
}

func bcryptMismatch(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil
}
