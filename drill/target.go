package drill

import (
	"context"
	"errors"
	"fmt"

	"github.com/rsguard/rsguard/api"
	"github.com/rsguard/rsguard/apiclient"
)

// ErrUnsupported is wrapped by a Target that cannot inject a fault; the message says why
// ("isolate-primary needs root and iptables"). A scenario that needs it is skipped, not failed.
var ErrUnsupported = errors.New("unsupported by this target")

// Unsupported returns an error wrapping ErrUnsupported with the reason.
func Unsupported(fault, why string) error {
	return fmt.Errorf("%s: %w: %s", fault, ErrUnsupported, why)
}

// Undo reverses one fault. It must be safe to call with a context that is already past the
// drill's deadline (the runner gives it its own).
type Undo func(ctx context.Context) error

// Role is a member's place in the set as a scenario needs it.
type Role string

// Roles.
const (
	RolePrimary   Role = "PRIMARY"
	RoleSecondary Role = "SECONDARY"
	RoleArbiter   Role = "ARBITER"
	RoleOther     Role = "OTHER" // down, recovering, startup...
)

// Member is one replica-set member as the target sees it now.
type Member struct {
	Host    string `json:"host"`
	Role    Role   `json:"role"`
	State   string `json:"state"`             // mongod's state name
	Sidecar string `json:"sidecar,omitempty"` // the sidecar beside it, "" for none
}

// SidecarAPI is what the drill asks of one sidecar; *apiclient.Client implements it.
type SidecarAPI interface {
	Cluster(ctx context.Context) (api.Cluster, error)
	History(ctx context.Context, q apiclient.HistoryQuery) (api.History, error)
	Audit(ctx context.Context, limit int) (api.Audit, error)
	Do(ctx context.Context, action, member string, req api.ActionRequest, o apiclient.DoOptions) (api.ActionResult, error)
}

var _ SidecarAPI = (*apiclient.Client)(nil)

// Sidecar is one sidecar of the set and its API.
type Sidecar struct {
	ID     string // its node id; "" until known
	Addr   string
	Client SidecarAPI
}

// Fault names a kind of fault a Target may or may not be able to inject.
type Fault string

// Faults.
const (
	FaultKill        Fault = "kill-mongod"
	FaultFreeze      Fault = "freeze-host"
	FaultIsolate     Fault = "isolate-host"
	FaultStallDisk   Fault = "stall-disk"
	FaultLag         Fault = "lag-secondaries"
	FaultKillSidecar Fault = "kill-sidecar"
	FaultStale       Fault = "stale-secondary"
)

// Seeds say how a client reaches the set: a connection string (credentials and TLS options
// included) or, without one, the set name and seed hosts.
type Seeds struct {
	Set   string
	Hosts []string
	URI   string
}

// Target is a replica set a drill can run on.
type Target interface {
	// Name says what it is, for reports ("local set rs0 on 127.0.0.2-4", "mongodb://...").
	Name() string
	// Local is true for a set the drill started itself (no --yes-really needed).
	Local() bool
	// Members is the set as it is now: every member with its role.
	Members(ctx context.Context) ([]Member, error)
	// Sidecars are the set's sidecars, data and arbiter.
	Sidecars() []Sidecar
	// Seeds say how the workloads' client reaches the set.
	Seeds() Seeds

	// Can says whether the target can inject f: nil, or an error wrapping ErrUnsupported
	// that says why not.
	Can(f Fault) error
	// Faults. Each returns the undo of what it did, or an error (ErrUnsupported with the
	// reason when the target cannot inject it).
	KillMongod(ctx context.Context, host string) (Undo, error)
	FreezeHost(ctx context.Context, host string) (Undo, error) // mongod and sidecar stopped (SIGSTOP)
	Isolate(ctx context.Context, host string) (Undo, error)    // every link to and from host cut
	StallDisk(ctx context.Context, host string) (Undo, error)  // writes block, hello answers
	LagSecondaries(ctx context.Context, hosts []string) (Undo, error)
	KillSidecar(ctx context.Context, id string) (Undo, error) // the sidecar with node id id
	// StaleSecondary makes host too stale to catch up: stops it, writes past its oplog window
	// and starts it again; the undo cleans up what is left.
	StaleSecondary(ctx context.Context, host string) (Undo, error)
	// Close releases the target's connections (not the set).
	Close(ctx context.Context) error
}

// primaryOf returns the primary of ms, "" when there is none.
func primaryOf(ms []Member) string {
	for _, m := range ms {
		if m.Role == RolePrimary {
			return m.Host
		}
	}
	return ""
}

// withRole returns the hosts of ms with role r, in order.
func withRole(ms []Member, r Role) []string {
	var out []string
	for _, m := range ms {
		if m.Role == r {
			out = append(out, m.Host)
		}
	}
	return out
}

// roleOf maps mongod's state names to a Role.
func roleOf(state string) Role {
	switch state {
	case "PRIMARY":
		return RolePrimary
	case "SECONDARY":
		return RoleSecondary
	case "ARBITER":
		return RoleArbiter
	default:
		return RoleOther
	}
}
