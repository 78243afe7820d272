// Package config is the sidecar's YAML configuration: schema, strict loading, defaults,
// validation with file:line errors, secrets that never print, and SIGHUP reload rules.
//
// Only supervisor/ and cmd/ import it; they map a Config onto each package's Options. The
// types are plain structs with time.Duration fields and typed enums.
//
// # Loading
//
// Load(path) reads one file; Parse(name, data) decodes bytes as if read from name. Both:
//
//   - decode through yaml.Node, strictly: unknown keys (with a "did you mean" suggestion),
//     wrong scalar types (true/false only for booleans, quoted-or-plain strings with a unit for
//     durations, "5" is not "5s"), duplicate keys, merge keys (<<) and a second YAML document
//     are errors. An empty value (key: with nothing after it) is the same as an absent key;
//   - apply defaults to every omitted optional key (below), then the derived defaults: those
//     that follow other keys (audit_log, advertise, seeds, and probe timings that follow the
//     intervals the file sets, so that changing one interval never invalidates a default);
//   - resolve relative file paths against the directory of the file;
//   - validate every rule and read every secret and key file the config names;
//   - return every problem at once as Errors, each an *Error reading
//     "node.yaml:12:3: failover.anti_flap_window: must be at least 1s, got "100ms"".
//
// # Schema
//
// Keys, types, defaults and rules. "required" keys have no default. Durations are Go
// durations ("500ms", "2s", "5m", "1h"); host:port is an IP (IPv6 in brackets) or host name
// and a port from 1 to 65535. testdata/example.yaml is a complete annotated file.
//
//	id           string, required. This sidecar's id: [a-z0-9-]{1,63}, no leading or trailing
//	             hyphen. Must appear in members, with the same mode.
//	mode         "data" | "arbiter", required. data runs beside a mongod; arbiter has none and
//	             only observes and votes in the sidecar quorum.
//	replica_set  string, required. The replSetName: [A-Za-z0-9._-]{1,64}.
//	state_dir    path, default /var/lib/rsguard. Sidecar state (anti-flap, recovery steps).
//	audit_log    path, default <state_dir>/audit.jsonl.
//
//	mongod       section, required in mode data, forbidden in mode arbiter.
//	  uri              required. mongodb://host[:port][/?options] naming exactly one host, with
//	                   no user:password@ (use username and password_file/password_env), no
//	                   replicaSet option and no directConnection=false: the sidecar talks to
//	                   its own mongod only. mongodb+srv is refused. Never echoed in messages.
//	  username         optional. When set, exactly one password source is required
//	                   ("missing credentials" otherwise), unless auth_mechanism is MONGODB-X509.
//	  password_file    path of a file holding only the password (trailing newlines dropped).
//	  password_env     name of an environment variable holding the password. Not with
//	                   password_file. A literal "password" key is rejected.
//	  auth_source      default "admin".
//	  auth_mechanism   "" (driver negotiates SCRAM) | SCRAM-SHA-1 | SCRAM-SHA-256 | MONGODB-X509
//	                   (certificate auth: needs tls.certificate_key_file, forbids a password).
//	  connect_timeout  default 2s, 100ms..1m.
//	  tls              optional section; present means TLS to mongod (then the URI must not
//	                   carry tls/ssl options).
//	    ca_file              PEM CA bundle; default: system roots.
//	    certificate_key_file client certificate and key in one PEM file.
//
//	credentials  section, optional in mode arbiter, forbidden in mode data: how an arbiter
//	             sidecar logs in to the members' mongods (at the hosts members[].mongod names).
//	             Keys as in mongod minus uri: username, password_file, password_env,
//	             auth_source, auth_mechanism, connect_timeout, tls. With it the arbiter sidecar
//	             gossips that it may act on members (a fallback executor when a member's own
//	             sidecar is out of sight); without it it only probes and never executes. An
//	             empty section ({}) says the set needs neither login nor TLS. A data sidecar
//	             uses its mongod section's credentials and TLS for every member.
//
//	gossip       section (memberlist).
//	  bind             host:port, required. 0.0.0.0 / [::] allowed, then advertise is required.
//	  advertise        host:port, default bind. Must equal this sidecar's members[].gossip.
//	  seeds            list of host:port, default: the other members' gossip addresses.
//	                   Unique; may list this sidecar's own address (the runtime skips it);
//	                   an explicit empty list is an error when there are other members.
//	  keyring_file     path, required unless insecure. Base64 keys of 16, 24 or 32 bytes
//	                   (AES-128/192/256), one per line, the first being the primary (encrypting)
//	                   key; blank lines and # comments skipped. Literal keys in the YAML are
//	                   rejected. It encrypts gossip (a node without it cannot join) and keys the
//	                   MAC that proves each view comes from the configured sidecar it names.
//	  insecure         default false. true allows running without keyring_file: gossip is then
//	                   neither encrypted nor authenticated (anyone reaching the port can forge
//	                   views); /readyz warns and rsguard_heartbeat_insecure is 1. Not with
//	                   keyring_file.
//	  profile          "lan" | "wan" | "local", default lan: the memberlist timing preset.
//	  settle           default 3s, 0..1m: wait after joining before any verdict.
//
//	members      list, at least one entry; the configured sidecar membership, the same in
//	             every sidecar's file. Quorum() is a strict majority of it, arbiters included.
//	  id               required, as for id; unique.
//	  mode             "data" | "arbiter", default data.
//	  gossip           host:port, required, unique: the member's gossip advertise address.
//	  mongod           host:port as the replica set config names the member's mongod;
//	                   required and unique for data members, forbidden for arbiters.
//	  zone             optional, [A-Za-z0-9._-]{1,63}. This sidecar's zone is its entry's.
//	             At least one data member and at most 50 (MongoDB's member limit).
//
//	probe        section; reloadable.
//	  interval                     default 1s, 100ms..1m. hello/status probe period.
//	  timeout                      default 800ms (or 4/5 of interval if less), 10ms..1m,
//	                               less than interval.
//	  failures_before_unreachable  default 2, 1..100 consecutive unanswered questions.
//	  unreachable_after            default 3s, 0..10m. A mongod that answers nothing (timeouts,
//	                               resets) is unreachable only once it has been silent this
//	                               long (asked again every timeout/4 over a fresh connection
//	                               meanwhile), as well as failures_before_unreachable times
//	                               in a row; a refused connection counts at once. Shorter
//	                               silences are ridden out as network blips (a blip of d
//	                               reads as d + timeout/4); 0 counts failures only.
//	  write_probe_interval         default 1s, 100ms..1m.
//	  write_probe_timeout          default 5s, 100ms..5m. A timed-out w:1 j:true probe is a
//	                               sick signal; a timed-out w:"majority" one alone is
//	                               replication lag, never acted on.
//	  write_probe_namespace        default "rsguard.probe": database.collection, not in local
//	                               or config, not a system collection.
//	  sick_write_latency           default 2s (or half write_probe_timeout if less), 10ms..5m,
//	                               less than write_probe_timeout. A w:1 j:true
//	                               write probe slower than this is a sick signal.
//	  sick_after                   default 5s (or write_probe_interval if more), 1s..1h, at
//	                               least write_probe_interval.
//	                               Sustained sickness needed before acting.
//	  view_max_age                 default 5s (or 3 x interval if more), 200ms..10m, at least
//	                               2 x interval. Gossiped
//	                               views older than this do not count towards a verdict.
//
//	failover     section; reloadable.
//	  enabled                 default true. false: observe, report and audit only.
//	  dry_run                 default false. true: decide and audit, execute nothing.
//	  anti_flap_window        default 5m, 1s..24h. One automatic failover per set per window
//	                          unless acknowledged.
//	  step_down_sick_primary  default true. Act on a primary that is sick but not dead, by
//	                          stepping up a caught-up healthy secondary (replSetStepUp);
//	                          despite the name no replSetStepDown is sent (spec §6.1: it
//	                          would wait for the stalled write's locks). false: report only.
//	  abort_catch_up          default true. After stepping a member up over a lost primary,
//	                          end its catch-up (replSetAbortPrimaryCatchUp) once it only
//	                          waits for the lost primary to be marked down and no reachable
//	                          member is ahead of it (election/catchup.go).
//	  fence_old_primary       default true. Stop a former primary's mongod that still claims
//	                          primary fence_after after the failover (its own sidecar only).
//	                          false: never fence; where a fence is called for (a lingering
//	                          old primary, PSA fence-first) the decision is
//	                          refused_fence_disabled.
//	  fence_after             default 20s, 1s..10m.
//	  election_quiet          default 12s, 1s..5m. A term that began less than this ago
//	                          (any member's own mongod) means MongoDB's election may still be
//	                          settling: rsguard does not step in, and status shows the time
//	                          left. 12 s is the documented median failover time (spec §5.6);
//	                          lower it only with a shorter electionTimeoutMillis.
//	  candidates              rules a secondary must pass to be stepped up:
//	    max_lag               default 10s, 0..1h behind the freshest reachable member.
//	    min_priority          default 0, 0..1000. Priority-0 members are never candidates.
//	    prefer_zones          default []. Zones (of members) ranked first.
//	    avoid_zones           default []. Zones ranked last; disjoint from prefer_zones.
//	    require_tags          default {}. Replica-set member tags (rs.conf members[].tags) a
//	                          candidate must carry, name: value.
//
//	process      section, optional; not reloadable. Who starts the local mongod.
//	  controller        "none" (default: an init system does; fencing is shutdown {force}) |
//	                    "exec" (mongod is this sidecar's child) | "command" (scripts). Must be
//	                    none in mode arbiter. "systemd": a unit (systemctl, journal). With exec or command the sidecar restarts mongod
//	                    after a crash and a fenced mongod stays down until recovery starts it.
//	  exec              section, with controller exec only:
//	    path            required, absolute: the mongod binary.
//	    args            its arguments (--port, --dbpath, --replSet...).
//	    dir, env        optional working directory and NAME=value entries.
//	    output          optional file receiving mongod's stdout and stderr (appended).
//	  command           section, with controller command only:
//	    start, stop, status  required command lines as lists; status exits 0 while mongod runs.
//	    timeout         default 30s, 100ms..1h, per script run.
//	    poll            default 1s, 100ms..1m: how often status runs.
//	  systemd           section, with controller systemd only: unit (required, e.g.
//	                    mongod.service), systemctl, journalctl (default from PATH), timeout
//	                    (30s), poll (1s).
//	  min_backoff       default 500ms, 10ms..1h; max_backoff default 30s, at least min_backoff:
//	                    the wait before a restart doubles with every exit in crash_window.
//	  crash_window      default 5m, 1s..24h.
//	  stop_timeout      default 60s, 1s..1h: a stop's wait for a clean shutdown before SIGKILL.
//
//	recovery     section, optional, data mode; not reloadable. After a failover:
//	  dbpath            the local mongod's dbpath; default the --dbpath of process.exec.args.
//	                    Without one, rollback files are not archived.
//	  rollback_archive  default <state_dir>/rollback-archive, outside the dbpath: rollback
//	                    files are moved there, one entry per rollback with a manifest
//	                    (supervisor rollback list|show|export).
//	  rollback_retention  default 0 (keep forever), 0..100y: entries older are deleted.
//	  resync            "auto" (default) | "dry_run" | "off": when the member needs a resync
//	                    (too stale, unrecoverable rollback, stalled initial sync) and every
//	                    guard passes (a healthy primary ahead of it, no failover in progress,
//	                    no other member resyncing, a process controller, disk space), the
//	                    sidecar stops mongod, moves the dbpath aside, starts it empty and
//	                    follows the initial sync.
//	  resync_keep       default 1, 0..100: old dbpath copies kept (<dbpath>.resync-<time>).
//	  resync_max_lag    default 10s, 1s..1h: a resynced SECONDARY this close is done.
//	  resync_windows    default [] (any time): "HH:MM-HH:MM" UTC windows a resync may start in.
//	  psa_mitigation    "auto" (default) | "off": in a primary-secondary-arbiter set, the
//	                    primary's sidecar reconfigures a secondary lost for psa_lost_after to
//	                    votes 0 / priority 0 (w:"majority" then rests on the primary alone),
//	                    then restores votes, then priority, once it has caught up.
//	  psa_lost_after    default 30s, 5s..24h.
//	  re_add            "auto" (default) | "off": a member listed in members[] (with a mongod)
//	                    but missing from the replica set config (a force reconfig dropped it) is
//	                    added back by the primary's sidecar once its mongod answers: a voter
//	                    with priority 0 first, its priority once it is a caught-up SECONDARY.
//	                    Remove a member from members[] before removing it from the set.
//
//	http         section.
//	  listen            default 127.0.0.1:9216. host:port; empty host or 0.0.0.0 listens on
//	                    every address, port 0 picks a free one.
//	  tls               optional section: cert_file and key_file (both required), and
//	                    client_ca_file to require client certificates. Files are loaded at
//	                    validation time.
//	  admin_token_file  optional: bearer token for /v1 admin actions, alone in a file.
//	  admin_token_env   ...or an environment variable; not both. Neither: admin actions are
//	                    disabled. A literal admin_token key is rejected.
//	  read_token_file   optional: read-only bearer token, required (or the admin token) on
//	  read_token_env    every GET under /v1; neither: the GETs are open. Must differ from the
//	                    admin token.
//
//	log          section.
//	  level             "debug" | "info" | "warn" | "error", default info; reloadable.
//	  format            "json" | "text", default json.
//
//	notifications  section, optional; not reloadable (config/notify.go).
//	  webhooks          list, default []. Each: name (required, [A-Za-z0-9._-]{1,63}, unique),
//	                    url (required, http(s), no user:password@, never echoed), format
//	                    "json" (default) | "slack", events (kinds, default [] = all), timeout
//	                    (default 5s, 100ms..5m, per attempt), max_attempts (default 5, 1..100),
//	                    backoff_initial (default 1s) and backoff_max (default 1m, at least
//	                    backoff_initial), queue (default 100), headers {Name: {file: path} |
//	                    {env: VAR}} read at load like the other secrets.
//
//	hooks          section, optional; not reloadable. pre_failover, post_failover, on_resync,
//	               on_rollback, each {command: [argv...] (required; a bare name must resolve
//	               in PATH at load, a relative path is relative to the file), timeout (default
//	               30s, 100ms..1h), dir, on_timeout ("veto" default | "allow", pre_failover
//	               only)}. docs/hooks.md lists the environment.
//
// docs/configuration.md is the full reference generated from the types' doc comments
// (TestConfigReference).
//
// # Secrets
//
// Credentials and gossip keys are read at load into Secret values. Every way of printing one
// (fmt with any verb, slog, JSON, YAML, encoding.TextMarshaler) yields "[redacted]"; only
// Reveal returns the value. A missing file, an unset or empty variable, a malformed key or an
// unloadable certificate is a load error naming the key and the path or variable, never the
// contents. Config.LogValue is a secret-free summary for logs; Config.YAML renders the
// effective file.
//
// # Reload
//
// ReloadPolicy(old, path), for SIGHUP, accepts a valid file whose only changes are under
// probe, failover and log.level (see Reloadable), and returns the merged Config and the changed
// keys. Anything else is refused with one error per key ("id: cannot change on reload; restart
// the sidecar") and the old Config stays in force, as it does when the file is invalid.
// Secrets are read at start only.
//
// # Agreement between sidecars
//
// Some keys must be the same in every sidecar's file: replica_set, members, every failover key
// and the probe thresholds the election core judges by (failures_before_unreachable,
// sick_write_latency, sick_after, view_max_age). Config.Agreement digests them; sidecars gossip
// the digests and a sidecar that sees a peer with others is not ready (supervisor/agreement.go).
// agreement.go classifies every key and says why; a new key must be classified there. Note
// that derived defaults count with their effective value: probe.interval is per sidecar, but a
// file that changes it without setting view_max_age changes the derived view_max_age too.
// CrossCheck checks several files against each other (`supervisor validate-config a.yaml b.yaml`).
package config

//go:generate go test -run TestConfigReference -update
