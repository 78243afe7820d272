// Package api is the sidecar's HTTP surface (DESIGN.md L2): /metrics, /healthz, /readyz, the
// /v1 API answering for the whole replica set, load-balancer checks and the embedded dashboard.
// It knows nothing of the supervisor: the caller (cmd/supervisor) wires functions into Options,
// so the package stays testable with stubs and the supervisor stays free of HTTP. The wire types
// are in types.go; apiclient is their one client.
//
// Endpoints:
//
//	GET  /metrics              Prometheus exposition of Options.Gatherer (never needs a token).
//	GET  /healthz              200 "ok": the process is alive and serving.
//	GET  /readyz               200 "ready", or 503 with one reason per line; "warning: ..." lines
//	                           follow for Options.Warnings, which never change the code.
//	GET  /primary              200 when the local mongod is the writable primary, else 503
//	                           (load balancers, as Patroni's /primary).
//	GET  /secondary?max_lag=D  200 when the local mongod is a healthy secondary at most D behind
//	                           the primary (default: no lag limit), else 503.
//	GET  /v1/cluster           read: the whole set as this sidecar sees it (Cluster).
//	GET  /v1/status            read: this sidecar's own detailed report.
//	GET  /v1/history           read: incidents, failovers and operator actions, oldest first
//	                           (?since=RFC3339, ?limit=N newest N, ?kind=K).
//	GET  /v1/events            read: the history as server-sent events, then live; a
//	                           Last-Event-ID header (or ?after=ID) resumes after that event.
//	GET  /v1/audit             read: this sidecar's audit log (?limit=N, newest N).
//	GET  /v1/requests/{id}     read: one operator action (ActionResult).
//	POST /v1/switchover        admin: planned hand-off to {to} (optional): waits for catch-up.
//	POST /v1/failover          admin: manual failover to {to} (required), {force} skips checks.
//	POST /v1/resync/{member}   admin: resync that member from scratch (initial sync).
//	POST /v1/pause             admin: stop every automatic action on every sidecar.
//	POST /v1/resume            admin: lift the pause.
//	POST /v1/acknowledge       admin: lift the anti-flap block after a failover.
//	GET  /ui/                  the dashboard (embedded; no external assets).
//
// Every POST takes ?dry_run=1 (returns the plan with reason codes, does nothing) and ?wait=D
// (how long to wait for the executing sidecar, default 60s; 0 answers 202 at once with the
// pending request, to poll at /v1/requests/{id}). The body is an ActionRequest; a field the
// action does not take is a 400. Actions run on the sidecar that executes them (the primary's
// sidecar for a switchover, the target's for a failover or a resync): the request travels there
// in the set's shared memory, so any sidecar can be asked.
//
// Status codes: 200 done or planned, 202 pending, 400 bad request, 401 no or wrong token, 403 a
// read-only token on an admin action or admin actions disabled, 404 unknown member or request,
// 409 refused by a guard (Problem.Reason is the reason code, Problem.Result the plan), 502 the
// action failed, 504 the executor did not answer within ?wait. Every 4xx and 5xx under /v1 is an
// RFC 7807 application/problem+json document naming the field at fault.
//
// Tokens: "Authorization: Bearer <token>". The admin token (http.admin_token_file/env) allows
// everything; the read token (http.read_token_file/env) allows the GETs. Without a read token
// the GETs are open; without an admin token every POST is 403. Tokens are compared in constant
// time and never logged.
//
// Serve runs a handler on a listener with graceful shutdown, over TLS when given a tls.Config
// (TLSConfig builds one from the http.tls files, client certificates optional or required).
package api
