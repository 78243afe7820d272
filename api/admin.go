package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
)

// maxAdminBody bounds an admin request body: it carries at most an actor name.
const maxAdminBody = 4 << 10

// adminFunc is an admin action; actor is "operator:<name>".
type adminFunc func(w http.ResponseWriter, r *http.Request, actor string)

// admin guards next with the bearer token. Without a configured token every admin action is
// refused with 403 and a message saying how to enable them, so that "no token" can never mean
// "no authentication".
func (h *handler) admin(next adminFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		remote := remoteHost(r)
		if h.opts.AdminToken == "" {
			h.metrics.adminDenied.WithLabelValues("disabled").Inc()
			h.logger.Warn("admin request refused: admin actions are disabled", "path", r.URL.Path, "remote", remote)
			text(w, http.StatusForbidden, "admin actions are disabled: no admin token is configured "+
				"(set http.admin_token_file or http.admin_token_env and restart the sidecar)\n")
			return
		}
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			h.metrics.adminDenied.WithLabelValues("missing_token").Inc()
			h.logger.Warn("admin request refused: no bearer token", "path", r.URL.Path, "remote", remote)
			w.Header().Set("WWW-Authenticate", `Bearer realm="rsguard"`)
			text(w, http.StatusUnauthorized, "admin actions need an \"Authorization: Bearer <token>\" header\n")
			return
		}
		if !tokenEqual(token, h.opts.AdminToken) {
			h.metrics.adminDenied.WithLabelValues("bad_token").Inc()
			h.logger.Warn("admin request refused: wrong bearer token", "path", r.URL.Path, "remote", remote)
			w.Header().Set("WWW-Authenticate", `Bearer realm="rsguard", error="invalid_token"`)
			text(w, http.StatusUnauthorized, "invalid admin token\n")
			return
		}
		actor, err := actorOf(r)
		if err != nil {
			text(w, http.StatusBadRequest, err.Error()+"\n")
			return
		}
		h.logger.Warn("admin request", "path", r.URL.Path, "actor", actor, "remote", remote)
		next(w, r, actor)
	})
}

// tokenEqual compares in constant time; hashing first makes the time independent of the length.
func tokenEqual(got, want string) bool {
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// actorOf reads the operator's name from {"actor": "..."} or ?actor=; the token proves the right
// to act, the name says who did for the audit log. Without one the remote host is used.
func actorOf(r *http.Request) (string, error) {
	name := r.URL.Query().Get("actor")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil {
		return "", errors.New("reading the request body: " + err.Error())
	}
	if len(body) > maxAdminBody {
		return "", errors.New("request body too large")
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		var req struct {
			Actor string `json:"actor"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return "", errors.New(`body must be JSON like {"actor": "alice"}: ` + err.Error())
		}
		if req.Actor != "" {
			name = req.Actor
		}
	}
	name = strings.TrimPrefix(strings.TrimSpace(name), "operator:")
	if name == "" {
		name = "api@" + remoteHost(r)
	}
	if len(name) > 64 || strings.ContainsFunc(name, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._@:-[]", c))
	}) {
		return "", errors.New("actor must be at most 64 letters, digits or ._@:-[]")
	}
	return "operator:" + name, nil
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *handler) acknowledge(w http.ResponseWriter, _ *http.Request, actor string) {
	if h.opts.Acknowledge == nil {
		text(w, http.StatusNotImplemented, "acknowledge is not available\n")
		return
	}
	if err := h.opts.Acknowledge(actor); err != nil {
		text(w, http.StatusInternalServerError, "acknowledge failed: "+err.Error()+"\n")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true, "actor": actor}, false)
}
