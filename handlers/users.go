package handlers

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"kasa/i18n"
	"kasa/store"
	"kasa/views"
)

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request) {
	users, err := h.store.ListUsers(r.Context())
	if err != nil {
		h.serverError(w, r, errorf("list users", err))
		return
	}
	h.render(w, r, http.StatusOK, views.UsersPage(users))
}

func (h *Handler) newUserPage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, views.NewUserPage(views.UserForm{Role: store.RoleViewer}))
}

// createUser adds a user with a generated temporary password, shown once on
// the response page (never stored in clear, never in a flash) and to be
// changed at first sign-in.
func (h *Handler) createUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	admin := currentUser(ctx)
	form := views.UserForm{
		Email: strings.TrimSpace(r.PostFormValue("email")),
		Name:  strings.TrimSpace(r.PostFormValue("name")),
		Role:  store.Role(r.PostFormValue("role")),
	}
	form.Errors = validateUser(lang, form.Email, form.Name)
	if !form.Role.Valid() {
		form.Errors["role"] = lang.T("valid.role")
	}
	textErrors(r, form.Errors)
	if len(form.Errors) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.NewUserPage(form))
		return
	}
	temp := temporaryPassword()
	hash, err := hashPassword(temp)
	if err != nil {
		h.serverError(w, r, errorf("create user", err))
		return
	}
	u, err := h.store.CreateUser(ctx, store.NewUser{Email: form.Email, Name: form.Name, Role: form.Role, PasswordHash: hash, MustChangePassword: true, CreatedBy: admin.ID})
	if errors.Is(err, store.ErrConflict) {
		form.Errors["email"] = lang.T("valid.email.taken")
		h.render(w, r, http.StatusUnprocessableEntity, views.NewUserPage(form))
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("create user", err))
		return
	}
	h.render(w, r, http.StatusOK, views.TempPasswordPage(u, temp, lang.T("users.create.done", u.Email)))
}

func (h *Handler) userPage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		h.notFound(w, r)
		return
	}
	u, err := h.store.UserByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, errorf("user", err))
		return
	}
	trail, err := h.store.AuditTrail(r.Context(), store.UserSubject(id), 50)
	if err != nil {
		h.serverError(w, r, errorf("user", err))
		return
	}
	h.render(w, r, http.StatusOK, views.UserPage(u, trail))
}

// userAction runs one of the admin changes to another user and reports it.
func (h *Handler) userAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		lang := i18n.FromContext(ctx)
		admin := currentUser(ctx)
		id, err := pathID(r, "id")
		if err != nil {
			h.notFound(w, r)
			return
		}
		target, err := h.store.UserByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			h.notFound(w, r)
			return
		}
		if err != nil {
			h.serverError(w, r, errorf("user "+action, err))
			return
		}
		back := fmt.Sprintf("/users/%d", id)
		if id == admin.ID {
			// Changing one's own role or state could lock the last admin
			// out; one's own password is changed on My account, which keeps
			// this session.
			h.flash(w, r, "error", lang.T("users.self"))
			h.redirect(w, r, back)
			return
		}
		var msg string
		switch action {
		case "role":
			role := store.Role(r.PostFormValue("role"))
			if !role.Valid() {
				h.flash(w, r, "error", lang.T("valid.role"))
				h.redirect(w, r, back)
				return
			}
			err = h.store.SetUserRole(ctx, admin.ID, id, role)
			msg = lang.T("users.role.done")
		case "disable":
			err = h.store.SetUserDisabled(ctx, admin.ID, id, true)
			msg = lang.T("users.disable.done")
		case "enable":
			err = h.store.SetUserDisabled(ctx, admin.ID, id, false)
			msg = lang.T("users.enable.done")
		case "reset":
			temp := temporaryPassword()
			hash, herr := hashPassword(temp)
			if herr != nil {
				h.serverError(w, r, herr)
				return
			}
			if err := h.store.ResetPassword(ctx, admin.ID, id, hash); err != nil {
				h.serverError(w, r, errorf("reset password", err))
				return
			}
			h.render(w, r, http.StatusOK, views.TempPasswordPage(target, temp, lang.T("users.reset.done")))
			return
		}
		if errors.Is(err, store.ErrLastAdmin) {
			h.flash(w, r, "error", lang.T("users.lastadmin"))
			h.redirect(w, r, back)
			return
		}
		if err != nil {
			h.serverError(w, r, errorf("user "+action, err))
			return
		}
		h.flash(w, r, "success", msg)
		h.redirect(w, r, back)
	}
}

// temporaryPassword makes a 16-character password without look-alike
// characters, for reading aloud or typing from a note.
func temporaryPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r.Context())
	var notice string
	if u.MustChangePassword {
		notice = i18n.FromContext(r.Context()).T("account.mustchange")
	}
	h.render(w, r, http.StatusOK, views.AccountPage(*u, views.PasswordForm{Notice: notice}))
}

// changePassword lets a user change their own password; their other
// sessions end, this one continues.
func (h *Handler) changePassword(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := i18n.FromContext(ctx)
	u := currentUser(ctx)
	form := views.PasswordForm{Errors: views.Errors{}}
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	if bcryptMismatch(u.PasswordHash, current) {
		form.Errors["current_password"] = lang.T("valid.password.current")
	}
	validatePassword(lang, form.Errors, "new_password", next, r.PostFormValue("new_password_confirm"))
	textErrors(r, form.Errors)
	if len(form.Errors) > 0 {
		h.render(w, r, http.StatusUnprocessableEntity, views.AccountPage(*u, form))
		return
	}
	hash, err := hashPassword(next)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if err := h.store.ChangePassword(ctx, u.ID, hash, h.sessions.Hash(h.session(r))); err != nil {
		h.serverError(w, r, errorf("change password", err))
		return
	}
	h.flash(w, r, "success", lang.T("account.password.done"))
	h.redirect(w, r, "/account")
}

// savePreferences stores the user's language ("" = follow the browser).
func (h *Handler) savePreferences(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	lang := r.PostFormValue("language")
	if _, ok := i18n.Parse(lang); !ok && lang != "" {
		h.renderError(w, r, http.StatusBadRequest, "error.badrequest")
		return
	}
	if err := h.store.SetUserLanguage(ctx, u.ID, lang); err != nil {
		h.serverError(w, r, errorf("save preferences", err))
		return
	}
	s := h.session(r)
	if lang == "" {
		delete(s.Values, sessionLangKey)
	} else {
		s.Values[sessionLangKey] = lang
	}
	l := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
	if p, ok := i18n.Parse(lang); ok {
		l = p
	}
	h.flash(w, r, "success", l.T("account.prefs.done"))
	h.redirect(w, r, "/account")
}
