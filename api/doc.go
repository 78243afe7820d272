// Package api is the sidecar's HTTP surface (DESIGN.md L2): /metrics, /healthz, /readyz, the
// /v1/status report and the /v1 admin actions. It knows nothing of the supervisor: the caller
// (cmd/supervisor) wires functions into Options, so the package stays testable with stubs and the
// supervisor stays free of HTTP.
//
// Endpoints:
//
//	GET  /metrics          Prometheus exposition of Options.Gatherer.
//	GET  /healthz          200 "ok": the process is alive and serving.
//	GET  /readyz           200 "ready", or 503 with one reason per line (gossip not settled,
//	                       local mongod not answering or of another set, ...). Either way
//	                       "warning: ..." lines follow for Options.Warnings (e.g. unauthenticated
//	                       gossip), which never change the code.
//	GET  /v1/status        Options.Status() as JSON (?pretty=1 indents).
//	POST /v1/acknowledge   admin: lifts the anti-flap block. Requires "Authorization: Bearer
//	                       <token>"; the actor is {"actor": "<name>"} in the body or ?actor=.
//
// Admin actions are disabled (403, with a message saying how to enable them) when no admin token
// is configured; a missing or wrong token is 401. Tokens are compared in constant time and never
// logged. Every admin request is logged with the actor and the remote address; auditing is the
// action's business (the supervisor writes the audit line).
//
// Serve runs a handler on a listener with graceful shutdown, over TLS when given a tls.Config
// (TLSConfig builds one from the http.tls files, client certificates optional).
package api
