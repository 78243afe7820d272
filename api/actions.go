package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxActionBody bounds an action's body: an ActionRequest is a few short strings.
const maxActionBody = 8 << 10

// action handles POST /v1/<name>: parse and check the request, Act, then wait for the executor.
func (h *handler) action(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.opts.Act == nil {
			problem(w, r, Problem{Status: http.StatusNotImplemented, Detail: name + " is not available on this sidecar"})
			return
		}
		req, dry, wait, perr := h.parseAction(r)
		if perr != nil {
			problem(w, r, *perr)
			return
		}
		member := r.PathValue("member")
		h.logger.Warn("action requested", "action", name, "member", member, "to", req.To, "dry_run", dry,
			"actor", req.Actor, "remote", remoteHost(r))
		res, err := h.opts.Act(r.Context(), name, member, req, dry)
		if err != nil {
			problem(w, r, problemOf(err))
			return
		}
		if res.State == StatePending && wait > 0 && h.opts.Request != nil {
			// Waiting may outlast the server's write timeout (serve.go).
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + 10*time.Second))
			res = h.await(r, res, wait)
		}
		h.answer(w, r, res)
	}
}

// answer maps an action's state to its status code (doc.go).
func (h *handler) answer(w http.ResponseWriter, r *http.Request, res ActionResult) {
	switch res.State {
	case StateDone, StatePlanned:
		writeJSON(w, http.StatusOK, res, false)
	case StatePending, StateRunning:
		if r.Method == http.MethodPost && r.URL.Query().Get("wait") != "0" && r.URL.Query().Get("wait") != "0s" {
			problem(w, r, Problem{Status: http.StatusGatewayTimeout, Title: "still " + res.State,
				Detail: "the executor " + res.Executor + " has not finished within ?wait: follow it at /v1/requests/" + res.ID, Result: &res})
			return
		}
		w.Header().Set("Location", "/v1/requests/"+res.ID)
		writeJSON(w, http.StatusAccepted, res, false)
	case StateRefused:
		problem(w, r, Problem{Status: http.StatusConflict, Title: "refused: " + res.Reason, Detail: res.Message, Reason: res.Reason, Result: &res})
	default:
		problem(w, r, Problem{Status: http.StatusBadGateway, Title: res.Action + " failed", Detail: res.Message, Reason: res.Reason, Result: &res})
	}
}

// await polls the request until it ends or wait passes.
func (h *handler) await(r *http.Request, res ActionResult, wait time.Duration) ActionResult {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return res
		case <-deadline.C:
			return res
		case <-tick.C:
		}
		if cur, ok := h.opts.Request(res.ID); ok {
			res = cur
			if res.State != StatePending && res.State != StateRunning {
				return res
			}
		}
	}
}

// parseAction reads the body (strict JSON: an unknown field is a 400 naming it), ?dry_run and
// ?wait, and checks the actor's name.
func (h *handler) parseAction(r *http.Request) (ActionRequest, bool, time.Duration, *Problem) {
	var req ActionRequest
	bad := func(field, detail string) (ActionRequest, bool, time.Duration, *Problem) {
		return req, false, 0, &Problem{Status: http.StatusBadRequest, Title: "bad request", Detail: detail, Field: field}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxActionBody+1))
	if err != nil {
		return bad("body", "reading the request body: "+err.Error())
	}
	if len(body) > maxActionBody {
		return bad("body", "the request body is larger than 8 KiB")
	}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			field := "body"
			var te *json.UnmarshalTypeError
			switch {
			case errors.As(err, &te):
				field = te.Field
			case strings.HasPrefix(err.Error(), "json: unknown field "):
				field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			}
			return bad(field, `the body must be a JSON object like {"actor": "alice", "to": "host:port", "why": "..."}: `+err.Error())
		}
	}
	q := r.URL.Query()
	if a := q.Get("actor"); a != "" && req.Actor == "" {
		req.Actor = a
	}
	req.Actor = strings.TrimPrefix(strings.TrimSpace(req.Actor), "operator:")
	if req.Actor == "" {
		req.Actor = "api@" + remoteHost(r)
	}
	if len(req.Actor) > 64 || strings.ContainsFunc(req.Actor, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._@:-[]", c))
	}) {
		return bad("actor", "actor must be at most 64 letters, digits or ._@:-[]")
	}
	if len(req.Why) > 1024 {
		return bad("why", "why must be at most 1024 characters")
	}
	dry := false
	if v := q.Get("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return bad("dry_run", "dry_run must be true or false (1 or 0), not "+strconv.Quote(v))
		}
		dry = b
	}
	wait := h.opts.DefaultWait
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			secs, err2 := strconv.ParseFloat(v, 64)
			if err2 != nil {
				return bad("wait", "wait must be a duration like 30s (or seconds), not "+strconv.Quote(v))
			}
			d = time.Duration(secs * float64(time.Second))
		}
		if d < 0 || d > 10*time.Minute {
			return bad("wait", "wait must be between 0 and 10m")
		}
		wait = d
	}
	return req, dry, wait, nil
}
