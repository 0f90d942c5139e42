package handlers

import (
	"errors"
	"mime"
	"net/http"
)

// formBodyLimit is the most an ordinary form may send. The largest form of
// the product (a debt, the settings) is a few kilobytes; anything bigger is
// a mistake or an attack, and reading it would cost memory for nothing.
const formBodyLimit = 64 << 10

// uploadMemory is how much of an accepted upload is kept in memory; the
// rest goes to temporary files, removed when the request ends.
const uploadMemory = 1 << 20

// uploadRoutes names the routes (mux patterns) that take a file upload and
// the body size each accepts. No route takes one today; a route that will
// (a spreadsheet import, say) is added here, and only it accepts
// multipart/form-data and a body above formBodyLimit.
func uploadRoutes() map[string]int64 {
	return map[string]int64{}
}

// limitBodies bounds what a request may send before any handler reads it.
// A body declared larger than the route allows is answered 413 unread; a
// multipart body on a route that takes no upload is answered 415 unread
// (its size is not the problem: the route does not take files, so 415
// Unsupported Media Type says what is wrong); every other body is read
// through http.MaxBytesReader, and urlencoded forms are parsed here so that
// a body that turns out too large while being read is a 413 too, not a form
// that looks empty to the handler. Forms are parsed on r itself, which the
// mux hands to the handler, so the handler sees them parsed. An accepted
// upload is parsed here as well and its temporary files are removed when
// the handler returns: the handler works on a copy of the request the
// server made (r.WithContext), so net/http's own clean-up would never see
// them.
func (h *Handler) limitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		_, pattern := h.mux.Handler(r)
		limit, upload := h.uploads[pattern]
		if !upload {
			limit = formBodyLimit
		}
		if r.ContentLength > limit {
			h.renderError(w, r, http.StatusRequestEntityTooLarge, "error.toolarge")
			return
		}
		mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mediaType == "multipart/form-data" && !upload {
			h.renderError(w, r, http.StatusUnsupportedMediaType, "error.noupload")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		var err error
		switch mediaType {
		case "application/x-www-form-urlencoded":
			err = r.ParseForm()
		case "multipart/form-data":
			err = r.ParseMultipartForm(uploadMemory)
			if r.MultipartForm != nil {
				defer func() {
					if rerr := r.MultipartForm.RemoveAll(); rerr != nil {
						h.log.Error("remove upload files", "request_id", requestID(r.Context()), "err", rerr)
					}
				}()
			}
		}
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			h.renderError(w, r, http.StatusRequestEntityTooLarge, "error.toolarge")
			return
		case err != nil:
			h.renderError(w, r, http.StatusBadRequest, "error.badrequest")
			return
		}
		next.ServeHTTP(w, r)
	})
}
