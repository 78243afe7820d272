package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// Access levels a request can hold.
const (
	levelNone = iota
	levelRead
	levelAdmin
)

// access works out what the request's bearer token allows: admin (the admin token), read (the
// read token), or nothing. Without any configured read token, reads are open.
func (h *handler) access(r *http.Request) (int, string) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return levelNone, "missing_token"
	}
	switch {
	case h.opts.AdminToken != "" && tokenEqual(token, h.opts.AdminToken):
		return levelAdmin, ""
	case h.opts.ReadToken != "" && tokenEqual(token, h.opts.ReadToken):
		return levelRead, ""
	}
	return levelNone, "bad_token"
}

// read guards a GET under /v1: open without a configured read token, else the read or the
// admin token.
func (h *handler) read(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.opts.ReadToken == "" {
			next(w, r)
			return
		}
		if lvl, why := h.access(r); lvl == levelNone {
			h.metrics.adminDenied.WithLabelValues(why).Inc()
			w.Header().Set("WWW-Authenticate", `Bearer realm="rsguard"`)
			problem(w, r, Problem{Status: http.StatusUnauthorized, Title: "a token is needed",
				Detail: "reading the API needs the read or the admin token: \"Authorization: Bearer <token>\"", Field: "Authorization"})
			return
		}
		next(w, r)
	})
}

// admin guards an action with the admin token. Without a configured token every admin action
// is refused with 403 and a message saying how to enable them, so that "no token" can never
// mean "no authentication"; the read token is 403 too.
func (h *handler) admin(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remote := remoteHost(r)
		if h.opts.AdminToken == "" {
			h.metrics.adminDenied.WithLabelValues("disabled").Inc()
			h.logger.Warn("admin request refused: admin actions are disabled", "path", r.URL.Path, "remote", remote)
			problem(w, r, Problem{Status: http.StatusForbidden, Title: "admin actions are disabled",
				Detail: "no admin token is configured (set http.admin_token_file or http.admin_token_env and restart the sidecar)"})
			return
		}
		lvl, why := h.access(r)
		switch lvl {
		case levelAdmin:
			next(w, r)
			return
		case levelRead:
			h.metrics.adminDenied.WithLabelValues("read_only_token").Inc()
			h.logger.Warn("admin request refused: read-only token", "path", r.URL.Path, "remote", remote)
			problem(w, r, Problem{Status: http.StatusForbidden, Title: "this token is read-only",
				Detail: "actions need the admin token", Field: "Authorization"})
			return
		}
		h.metrics.adminDenied.WithLabelValues(why).Inc()
		h.logger.Warn("admin request refused", "why", why, "path", r.URL.Path, "remote", remote)
		if why == "bad_token" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="rsguard", error="invalid_token"`)
			problem(w, r, Problem{Status: http.StatusUnauthorized, Title: "invalid token", Field: "Authorization"})
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="rsguard"`)
		problem(w, r, Problem{Status: http.StatusUnauthorized, Title: "a token is needed",
			Detail: "actions need \"Authorization: Bearer <admin token>\"", Field: "Authorization"})
	})
}

// tokenEqual compares in constant time; hashing first makes the time independent of the length.
func tokenEqual(got, want string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
