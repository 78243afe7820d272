package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rsguard/rsguard/supervisor"
)

type statusCmd struct {
	Addr    string        `default:"http://127.0.0.2:9216" help:"The sidecar's HTTP address (its http.listen)."`
	JSON    bool          `name:"json" help:"Print the raw status report as JSON."`
	Timeout time.Duration `default:"5s" help:"How long to wait for the sidecar."`
}

// Run fetches GET /v1/status and prints it as tables, or as JSON.
func (c *statusCmd) Run(e *env) error {
	ctx, cancel := context.WithTimeout(e.ctx, c.Timeout)
	defer cancel()
	base := normalizeAddr(c.Addr)
	body, err := fetch(ctx, http.DefaultClient, base+"/v1/status")
	if err != nil {
		return fail(exitFailed, "supervisor status: cannot get the status of the sidecar at %s: %v", base, err)
	}
	if c.JSON {
		var out bytes.Buffer
		if json.Indent(&out, body, "", "  ") != nil {
			out.Reset()
			out.Write(body)
		}
		_, _ = e.stdout.Write(append(bytes.TrimRight(out.Bytes(), "\n"), '\n'))
		return nil
	}
	var r supervisor.StatusReport
	if err := json.Unmarshal(body, &r); err != nil {
		return fail(exitFailed, "supervisor status: %s/v1/status answered something that is not a status report: %v", base, err)
	}
	writeStatus(e.stdout, r, base)
	return nil
}

// normalizeAddr accepts "host:port" as well as a URL, and drops a trailing slash.
func normalizeAddr(addr string) string {
	addr = strings.TrimRight(strings.TrimSpace(addr), "/")
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return addr
}

// fetch GETs url and returns the body of a 200 answer; anything else is an error with the
// status line and the start of the body.
func fetch(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return body, fmt.Errorf("%s: %s", resp.Status, msg)
	}
	return body, nil
}

// fetchStatus is fetch decoding a status report.
func fetchStatus(ctx context.Context, client *http.Client, base string) (supervisor.StatusReport, error) {
	var r supervisor.StatusReport
	body, err := fetch(ctx, client, base+"/v1/status")
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("decoding the status report: %w", err)
	}
	return r, nil
}
