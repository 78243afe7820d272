// Package notify tells people and scripts what rsguard did: webhooks (generic JSON or
// Slack-compatible) and hook scripts run around failovers, resyncs and rollbacks.
//
// It imports the standard library and the Prometheus client only; the supervisor maps the
// configuration (config.Notifications, config.Hooks) onto Options and calls Notify after the
// facts and PreFailover before a failover or switchover.
//
// # Webhooks
//
// Every webhook has its own bounded queue and goroutine: Notify never blocks, a full queue drops
// its oldest event (counted as dropped), and one slow receiver never delays another. A delivery
// is a POST with Content-Type application/json. Network errors, 5xx, 408 and 429 are retried
// up to MaxAttempts with exponential backoff (BackoffInitial doubling up to BackoffMax, each
// wait jittered into [d/2, d)); a Retry-After on a 429 or 503 replaces the wait, capped at
// BackoffMax. Other 4xx are not retried. Each attempt has its own Timeout. Header values and
// the URL are never logged (Slack webhook URLs are credentials).
//
// Metrics: rsguard_notify_webhook_deliveries_total{webhook,result} (result ok, failed,
// dropped, abandoned), rsguard_notify_webhook_queue_length{webhook},
// rsguard_notify_webhook_attempt_duration_seconds{webhook},
// rsguard_notify_hook_runs_total{hook,result} (ok, failed, timeout, error, dropped) and
// rsguard_notify_hook_duration_seconds{hook}.
//
// # Hooks
//
// A hook is an argv (no shell unless the command is [sh, -c, "..."]) run in its own process
// group with a timeout, at which the whole group is killed. Its combined output is captured
// (the last 4 KiB) and logged with the result.
//
//   - pre_failover runs synchronously before a failover or switchover is executed
//     (Notifier.PreFailover). A non-zero exit vetoes it; a timeout vetoes it too unless
//     on_timeout is allow; a command that cannot be started vetoes it.
//   - post_failover runs after a failover or switchover (events failover, switchover): move a
//     virtual IP, update DNS.
//   - on_resync runs when a resync starts and ends (resync_started, resync_ended).
//   - on_rollback runs when rollback files were archived (rollback_archived).
//
// The asynchronous hooks run one at a time per hook, in event order, from a bounded queue.
//
// # Hook environment
//
// A hook inherits the sidecar's environment, plus:
//
//	RSGUARD_EVENT       the event kind: failover, switchover, resync_started, ...
//	RSGUARD_EVENT_ID    the event id, the same on every sidecar for the same fact
//	RSGUARD_SET         the replica set name
//	RSGUARD_SIDECAR     the id of the sidecar running the hook
//	RSGUARD_REASON      the reason code of the decision (election.Reason), if any
//	RSGUARD_ACTOR       who acted: "rsguard" for automatic actions, else the operator
//	RSGUARD_MEMBER      the member concerned (host:port), if any
//	RSGUARD_FROM        the old primary (host:port), for failovers and switchovers
//	RSGUARD_TO          the new primary (host:port), for failovers and switchovers
//	RSGUARD_TERM        the new primary's term, if known
//	RSGUARD_EVENT_JSON  the whole event as JSON, as a json webhook receives it
//
// Unknown values are empty strings. docs/hooks.md has examples.
package notify
