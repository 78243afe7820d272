package apiclient

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/rsguard/rsguard/api"
)

// Cluster is GET /v1/cluster: the whole set as the sidecar sees it.
func (c *Client) Cluster(ctx context.Context) (api.Cluster, error) {
	var out api.Cluster
	err := c.getJSON(ctx, "/v1/cluster", nil, &out)
	return out, err
}

// Status is GET /v1/status: the sidecar's own report, as raw JSON (the caller decodes it into
// the supervisor's StatusReport; this package does not import the supervisor).
func (c *Client) Status(ctx context.Context) ([]byte, error) {
	_, data, err := c.call(ctx, http.MethodGet, "/v1/status", nil, nil, 0)
	return data, err
}

// Ready is GET /readyz: nil when the sidecar is ready, else a *ProblemError whose detail is
// the sidecar's reasons (one per line, folded).
func (c *Client) Ready(ctx context.Context) error {
	_, _, err := c.call(ctx, http.MethodGet, "/readyz", nil, nil, 0)
	return err
}

// HistoryQuery selects history events; the zero value is all of them.
type HistoryQuery struct {
	Since time.Time // events at or after
	Limit int       // the newest N; 0 for all
	Kind  string    // one of the api.Event* kinds; "" for all
}

// History is GET /v1/history, oldest first.
func (c *Client) History(ctx context.Context, q HistoryQuery) (api.History, error) {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Kind != "" {
		v.Set("kind", q.Kind)
	}
	var out api.History
	err := c.getJSON(ctx, "/v1/history", v, &out)
	return out, err
}

// Audit is GET /v1/audit: the sidecar's audit log, the newest limit records (0: all).
func (c *Client) Audit(ctx context.Context, limit int) (api.Audit, error) {
	v := url.Values{}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	var out api.Audit
	err := c.getJSON(ctx, "/v1/audit", v, &out)
	return out, err
}

// Request is GET /v1/requests/{id}: one operator action.
func (c *Client) Request(ctx context.Context, id string) (api.ActionResult, error) {
	var out api.ActionResult
	if id == "" {
		return out, errors.New("apiclient: Request: empty request id")
	}
	err := c.getJSON(ctx, "/v1/requests/"+url.PathEscape(id), nil, &out)
	return out, err
}
