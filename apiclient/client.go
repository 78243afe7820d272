// Package apiclient is the one client of the sidecar's /v1 HTTP API (DESIGN.md L2): the CLI, the
// demo, the drills and the tests all reach a sidecar through it. It decodes the wire types of
// package api and imports nothing from the supervisor: the per-sidecar status report is handed
// back as raw JSON for the caller to decode.
//
// Every answer outside 2xx becomes a *ProblemError carrying the RFC 7807 document (or the
// verbatim body of a server that did not send one). Actions that the server accepts without
// waiting (202) are polled at /v1/requests/{id} until they end; the event stream reconnects
// after a dropped connection and resumes after the last event it delivered.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults for the zero Options.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultPollInterval = 500 * time.Millisecond
	DefaultRetryMin     = 500 * time.Millisecond
	DefaultRetryMax     = 15 * time.Second
)

// maxBody bounds an answer read into memory (a status report or a long history).
const maxBody = 32 << 20

// Options say where the sidecar is and how to reach it.
type Options struct {
	// Addr is "host:port" or a URL (http://host:port, https://host:port/prefix). A bare
	// host:port is spoken to over https when CAFile or CertFile is set, else over http.
	Addr string
	// Token is sent as "Authorization: Bearer <token>" when not empty.
	Token string
	// CAFile verifies the sidecar's certificate (PEM); without it the system roots do.
	CAFile string
	// CertFile and KeyFile are the client certificate for sidecars that require one.
	CertFile, KeyFile string
	// Timeout bounds each request (not the event stream, and an action's request only beyond
	// its DoOptions.Wait). Zero: DefaultTimeout.
	Timeout time.Duration
	// HTTPClient replaces the client built from the TLS files (which must then be empty).
	HTTPClient *http.Client
	// PollInterval is how often a pending action is polled. Zero: DefaultPollInterval.
	PollInterval time.Duration
	// RetryMin and RetryMax bound the event stream's reconnection backoff (doubling from
	// RetryMin). Zero: DefaultRetryMin, DefaultRetryMax.
	RetryMin, RetryMax time.Duration
}

// Client talks to one sidecar. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	token   string
	http    *http.Client
	timeout time.Duration
	poll    time.Duration
	retry   [2]time.Duration
}

// New checks the options and builds a client; a bad Addr or an unreadable file is an error
// naming it.
func New(o Options) (*Client, error) {
	tlsWanted := o.CAFile != "" || o.CertFile != "" || o.KeyFile != ""
	base, err := parseAddr(o.Addr, tlsWanted)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, token: o.Token, http: o.HTTPClient,
		timeout: orDefault(o.Timeout, DefaultTimeout), poll: orDefault(o.PollInterval, DefaultPollInterval),
		retry: [2]time.Duration{orDefault(o.RetryMin, DefaultRetryMin), orDefault(o.RetryMax, DefaultRetryMax)}}
	if c.retry[1] < c.retry[0] {
		c.retry[1] = c.retry[0]
	}
	switch {
	case c.http != nil && tlsWanted:
		return nil, errors.New("apiclient: CAFile, CertFile and KeyFile cannot be combined with HTTPClient: configure TLS on that client")
	case c.http == nil:
		tr, err := transport(o.CAFile, o.CertFile, o.KeyFile)
		if err != nil {
			return nil, err
		}
		c.http = &http.Client{Transport: tr}
	}
	return c, nil
}

// URL is the base address requests go to, for messages ("https://127.0.0.1:9216").
func (c *Client) URL() string { return c.base.String() }

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// parseAddr accepts "host:port" or an http(s) URL, and drops a trailing slash.
func parseAddr(addr string, tlsWanted bool) (*url.URL, error) {
	s := strings.TrimRight(strings.TrimSpace(addr), "/")
	if s == "" {
		return nil, errors.New("apiclient: Addr is empty: give the sidecar's host:port (its http.listen) or URL")
	}
	explicit := strings.Contains(s, "://")
	if !explicit {
		scheme := "http"
		if tlsWanted {
			scheme = "https"
		}
		s = scheme + "://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("apiclient: Addr %q: %w", addr, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("apiclient: Addr %q: scheme %q, want http or https", addr, u.Scheme)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("apiclient: Addr %q: no host", addr)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("apiclient: Addr %q: a query, fragment or user name has no place in the address", addr)
	case explicit && u.Scheme == "http" && tlsWanted:
		return nil, fmt.Errorf("apiclient: Addr %q is http:// but TLS files are given: use https:// or host:port", addr)
	}
	if p := u.Port(); p != "" {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return nil, fmt.Errorf("apiclient: Addr %q: port %q is not a number from 0 to 65535", addr, p)
		}
	}
	return u, nil
}

// endpoint is the URL of path (escaped, starting with "/") with the query q.
func (c *Client) endpoint(path string, q url.Values) string {
	u := c.base.String() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// newRequest builds a request with the token and the accept header.
func (c *Client) newRequest(ctx context.Context, method, url string, body []byte, accept string) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return nil, fmt.Errorf("apiclient: %s %s: %w", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", accept)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// call sends a request bounded by the client's timeout plus extra, and returns the status code
// and body of a 2xx answer; any other answer is a *ProblemError.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, body []byte, extra time.Duration) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout+extra)
	defer cancel()
	u := c.endpoint(path, q)
	req, err := c.newRequest(ctx, method, u, body, "application/json, application/problem+json")
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, &TransportError{Method: method, URL: u, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, &TransportError{Method: method, URL: u, Err: fmt.Errorf("reading the answer: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, data, newProblemError(method, u, resp, data)
	}
	return resp.StatusCode, data, nil
}

// getJSON GETs path and decodes a 2xx answer into out.
func (c *Client) getJSON(ctx context.Context, path string, q url.Values, out any) error {
	_, data, err := c.call(ctx, http.MethodGet, path, q, nil, 0)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("apiclient: GET %s: the answer is not the expected JSON: %w", c.endpoint(path, q), err)
	}
	return nil
}

// TransportError is a request that got no HTTP answer: the sidecar is unreachable, the TLS
// handshake failed, or the timeout passed.
type TransportError struct {
	Method, URL string
	Err         error
}

func (e *TransportError) Error() string {
	err := e.Err
	var ue *url.Error // it repeats the method and the URL
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Sprintf("%s %s: %v", e.Method, e.URL, err)
}

func (e *TransportError) Unwrap() error { return e.Err }
