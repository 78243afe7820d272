package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/rsguard/rsguard/mongo"
)

// RemoteOptions describe a set the drill does not own.
type RemoteOptions struct {
	// URI is the set's connection string: mongodb://h1,h2,h3/?replicaSet=rs0, with credentials
	// (and authSource) when the set requires them.
	URI string
	// Sidecars are the set's sidecars (their API clients); at least one.
	Sidecars []Sidecar
}

// Remote is a Target over a set given by URI and its sidecars' API addresses. It injects only
// what MongoDB's commands allow from a client: kill (shutdown force), disk stall (fsyncLock),
// lag (the rsSyncApplyStop fail point, with enableTestCommands); the rest needs the hosts.
type Remote struct {
	log      *slog.Logger
	uri      string
	set      string
	hosts    []string
	user     string
	password string
	authSrc  string
	sidecars []Sidecar
}

// NewRemote checks opts; a bad URI is an error naming what is wrong with it.
func NewRemote(log *slog.Logger, opts RemoteOptions) (*Remote, error) {
	u, err := url.Parse(opts.URI)
	if err != nil || u.Scheme != "mongodb" {
		return nil, fmt.Errorf("drill: --uri %q: want mongodb://host:port,.../?replicaSet=NAME (mongodb+srv is not supported)", redact(opts.URI))
	}
	r := &Remote{log: log, uri: opts.URI, set: u.Query().Get("replicaSet"), authSrc: u.Query().Get("authSource"), sidecars: opts.Sidecars}
	for _, h := range strings.Split(u.Host, ",") {
		if h = strings.TrimSpace(h); h != "" {
			r.hosts = append(r.hosts, h)
		}
	}
	if u.User != nil {
		r.user = u.User.Username()
		r.password, _ = u.User.Password()
	}
	switch {
	case r.set == "":
		return nil, fmt.Errorf("drill: --uri %q: no replicaSet=NAME option: the drill needs the set's name", redact(opts.URI))
	case len(r.hosts) == 0:
		return nil, fmt.Errorf("drill: --uri %q: no host", redact(opts.URI))
	case len(opts.Sidecars) == 0:
		return nil, errors.New("drill: --sidecars: give at least one sidecar's API address (host:port)")
	}
	return r, nil
}

// redact drops the password from a URI for messages.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func (r *Remote) Name() string        { return redact(r.uri) }
func (r *Remote) Local() bool         { return false }
func (r *Remote) Sidecars() []Sidecar { return r.sidecars }
func (r *Remote) Seeds() Seeds        { return Seeds{Set: r.set, Hosts: r.hosts, URI: r.uri} }
func (r *Remote) Close(context.Context) error {
	return nil // every node connection is closed after its command
}

// node dials one member directly.
func (r *Remote) node(ctx context.Context, host string) (*mongo.DriverNode, error) {
	return mongo.Dial(ctx, r.log, mongo.Options{URI: host, Username: r.user, Password: r.password, AuthSource: r.authSrc, AppName: "rsguard-drill"})
}

// with runs f on a direct connection to host.
func (r *Remote) with(ctx context.Context, host string, f func(*mongo.DriverNode) error) error {
	n, err := r.node(ctx, host)
	if err != nil {
		return err
	}
	defer func() { _ = n.Close(context.WithoutCancel(ctx)) }()
	return f(n)
}

// Members asks the members in turn for replSetGetStatus and maps the first answer: mongod's
// own view, not the sidecars' (they are what the drill tests).
func (r *Remote) Members(ctx context.Context) ([]Member, error) {
	var errs []error
	for _, h := range r.hosts {
		var st mongo.Status
		err := r.with(ctx, h, func(n *mongo.DriverNode) error {
			var err error
			st, err = n.Status(ctx)
			return err
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return membersOf(st), nil
	}
	return nil, fmt.Errorf("no member answered replSetGetStatus: %w", errors.Join(errs...))
}

// membersOf maps a replSetGetStatus reply. A member's view of the others lags by up to a
// heartbeat interval, so two members can show PRIMARY (a deposed primary that cannot step down
// yet, or one this member has not heard of losing): the newest election is the primary, the
// other keeps its state name with the role OTHER.
func membersOf(st mongo.Status) []Member {
	newest := -1
	for i, m := range st.Members {
		if m.StateStr == "PRIMARY" && (m.Healthy() || m.Self) && (newest < 0 || m.ElectionTime.After(st.Members[newest].ElectionTime)) {
			newest = i
		}
	}
	ms := make([]Member, 0, len(st.Members))
	for i, m := range st.Members {
		state := m.StateStr
		if !m.Healthy() && !m.Self {
			state = "DOWN"
		}
		role := roleOf(state)
		if role == RolePrimary && i != newest {
			role, state = RoleOther, "PRIMARY (deposed)"
		}
		ms = append(ms, Member{Host: m.Name, Role: role, State: state})
	}
	return ms
}
