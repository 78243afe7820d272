package main

import (
	"encoding/json"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/supervisor"
)

type statusCmd struct {
	apiFlags
	Sidecar bool `help:"Show the answering sidecar's own detailed report (GET /v1/status) instead of the whole set."`
	JSON    bool `name:"json" hidden:"" help:"Same as -o json."`
}

// Run prints the whole set from GET /v1/cluster (or with --sidecar the sidecar's own report)
// and exits 0 healthy, 1 degraded, 2 critical or unreachable.
func (c *statusCmd) Run(e *env) error {
	if c.JSON {
		c.Output = "json"
	}
	cl, err := c.client()
	if err != nil {
		return err
	}
	ctx := e.ctx
	if c.Sidecar {
		body, err := cl.Status(ctx)
		if err != nil {
			return fail(exitUsage, "supervisor status: cannot get the status of the sidecar at %s: %v", cl.URL(), err)
		}
		var r supervisor.StatusReport
		if err := json.Unmarshal(body, &r); err != nil {
			return fail(exitUsage, "supervisor status: %s/v1/status answered something that is not a status report: %v", cl.URL(), err)
		}
		if c.json() {
			_ = printJSON(e.stdout, body)
		} else {
			writeStatus(e.stdout, r, cl.URL())
		}
		return sidecarExit(r)
	}
	cluster, err := cl.Cluster(ctx)
	if err != nil {
		if pe := apiclient.AsProblem(err); pe != nil && c.json() {
			_ = writeJSON(e.stdout, pe.Problem)
		}
		return fail(exitUsage, "supervisor status: cannot get the state of the set from the sidecar at %s: %v", cl.URL(), err)
	}
	if c.json() {
		_ = writeJSON(e.stdout, cluster)
	} else {
		writeCluster(e.stdout, cluster, cl.URL())
	}
	return healthExit(cluster)
}

// healthExit is the status's exit code: 0 healthy, 1 degraded, 2 critical (or a level this
// version does not know). No primary or no quorum is critical whatever the level says.
func healthExit(c api.Cluster) error {
	if c.Primary == "" || !c.Quorum.Has {
		return &exitError{code: exitUsage}
	}
	switch c.Health {
	case api.HealthHealthy:
		return nil
	case api.HealthDegraded:
		return &exitError{code: exitFailed}
	}
	return &exitError{code: exitUsage}
}

// sidecarExit is the exit code of `status --sidecar`: 2 when the sidecar has no quorum, 1 when
// it is not ready or its analysis is not healthy, else 0.
func sidecarExit(r supervisor.StatusReport) error {
	switch {
	case !r.Quorum.Has:
		return &exitError{code: exitUsage}
	case !r.Ready || r.Analysis.Kind != election.Healthy:
		return &exitError{code: exitFailed}
	}
	return nil
}
