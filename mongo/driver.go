package mongo

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// Options configure a DriverNode. The supervisor maps its config onto them.
type Options struct {
	// URI is a mongodb:// URI naming one host, or a bare "host:port".
	URI string
	// Username and Password authenticate (SCRAM) against AuthSource when Username is set.
	// The password is never logged or put in an error.
	Username   string
	Password   string
	AuthSource string // default "admin"
	// AuthMechanism is "" (the driver negotiates SCRAM), SCRAM-SHA-1, SCRAM-SHA-256 or
	// MONGODB-X509 (the client certificate is the identity; the user defaults to its subject
	// and the source is $external).
	AuthMechanism string
	// ConnectTimeout bounds dialling and the handshake; default 2s. A dead mongod fails within it.
	ConnectTimeout time.Duration
	// ServerSelectionTimeout bounds waiting for the server to be usable, connection checkout
	// included. Default ConnectTimeout + HeartbeatInterval: after a network error the driver marks
	// the server unknown until its monitor's next check (at most HeartbeatInterval later) has
	// dialled again (ConnectTimeout), and a live mongod must recover within one call. A dead one
	// fails after this long; a caller's shorter context deadline still classifies as refused.
	ServerSelectionTimeout time.Duration
	// HeartbeatInterval is the driver monitor's hello period; default (and the driver's
	// minimum) 500ms, so a restarted mongod is noticed quickly.
	HeartbeatInterval time.Duration
	MaxPoolSize       uint64 // default 4
	AppName           string // default "rsguard"
	// ProbeNamespace is the "database.collection" WriteProbe writes to (probe.write_probe_namespace);
	// default ProbeDatabase.ProbeCollection.
	ProbeNamespace string
	// TLS, when set, makes the client speak TLS with this configuration (lab sets with
	// --tlsMode requireTLS; the supervisor's own TLS comes from its URI's options).
	TLS *tls.Config
}

// LogValue keeps the password out of logs even when Options is logged whole.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("uri", redactURI(o.URI)),
		slog.String("user", o.Username),
		slog.Bool("password_set", o.Password != ""),
		slog.Duration("connect_timeout", o.ConnectTimeout),
		slog.String("app", o.AppName),
	)
}

func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 2 * time.Second
	}
	if o.HeartbeatInterval < 500*time.Millisecond {
		o.HeartbeatInterval = 500 * time.Millisecond
	}
	if o.ServerSelectionTimeout <= 0 {
		o.ServerSelectionTimeout = o.ConnectTimeout + o.HeartbeatInterval
	}
	if o.MaxPoolSize == 0 {
		o.MaxPoolSize = 4
	}
	if o.AppName == "" {
		o.AppName = "rsguard"
	}
	if o.AuthSource == "" {
		o.AuthSource = "admin"
	}
	if o.ProbeNamespace == "" {
		o.ProbeNamespace = ProbeDatabase + "." + ProbeCollection
	}
	return o
}

// DriverNode is a Node backed by the official driver, always a direct connection to one mongod:
// no server selection across the set, so every answer is that mongod's own.
type DriverNode struct {
	client *mongodrv.Client
	addr   string
	log    *slog.Logger
	seq    atomic.Int64
	// probeDB and probeColl are Options.ProbeNamespace split at its first dot.
	probeDB, probeColl string
	opts               Options      // as dialled (defaults applied), for HelloFresh
	base               *slog.Logger // the logger Dial was given, for HelloFresh
}

// Dial prepares a client for the mongod in opts.URI. It does not wait for the mongod: a sidecar
// must start while its mongod is down, and every later call reports refused or timeout on its own.
func Dial(ctx context.Context, logger *slog.Logger, opts Options) (*DriverNode, error) {
	_ = ctx // connecting is lazy in the v2 driver; kept for symmetry with Close
	opts = opts.withDefaults()
	uri := opts.URI
	if uri == "" {
		return nil, errors.New("mongo: dial: no URI")
	}
	if !strings.Contains(uri, "://") {
		uri = "mongodb://" + uri
	}
	co := options.Client().ApplyURI(uri)
	if err := co.Validate(); err != nil {
		if hasPassword(uri) {
			return nil, fmt.Errorf("mongo: dial %s: invalid URI", redactURI(uri))
		}
		return nil, fmt.Errorf("mongo: dial %s: %w", uri, err)
	}
	if len(co.Hosts) != 1 {
		return nil, fmt.Errorf("mongo: dial %s: want exactly one host, got %d", redactURI(uri), len(co.Hosts))
	}
	co.SetDirect(true).
		SetAppName(opts.AppName).
		SetConnectTimeout(opts.ConnectTimeout).
		SetServerSelectionTimeout(opts.ServerSelectionTimeout).
		SetHeartbeatInterval(opts.HeartbeatInterval).
		SetMaxPoolSize(opts.MaxPoolSize).
		SetMinPoolSize(0).
		// Retries would hide exactly what the supervisor wants to see: the first failure.
		SetRetryReads(false).
		SetRetryWrites(false).
		SetReadPreference(readpref.PrimaryPreferred())
	switch {
	case opts.AuthMechanism == "MONGODB-X509":
		co.SetAuth(options.Credential{AuthMechanism: opts.AuthMechanism, Username: opts.Username, AuthSource: "$external"})
	case opts.Username != "":
		co.SetAuth(options.Credential{
			AuthMechanism: opts.AuthMechanism,
			Username:      opts.Username,
			Password:      opts.Password,
			PasswordSet:   opts.Password != "",
			AuthSource:    opts.AuthSource,
		})
	}
	if opts.TLS != nil {
		co.SetTLSConfig(opts.TLS)
	}
	probeDB, probeColl, ok := strings.Cut(opts.ProbeNamespace, ".")
	if !ok || probeDB == "" || probeColl == "" {
		return nil, fmt.Errorf("mongo: dial %s: probe namespace %q is not database.collection", co.Hosts[0], opts.ProbeNamespace)
	}
	client, err := mongodrv.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("mongo: dial %s: %w", co.Hosts[0], err)
	}
	n := &DriverNode{client: client, addr: co.Hosts[0], log: logger.With("mongod", co.Hosts[0]),
		probeDB: probeDB, probeColl: probeColl, opts: opts, base: logger}
	n.log.Debug("mongod client ready", "app", opts.AppName,
		"connect_timeout", opts.ConnectTimeout, "heartbeat", opts.HeartbeatInterval)
	return n, nil
}

// Addr is the mongod's host:port.
func (n *DriverNode) Addr() string { return n.addr }

// Close disconnects the client.
func (n *DriverNode) Close(ctx context.Context) error {
	if err := n.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("disconnect from %s: %w", n.addr, err)
	}
	return nil
}

// run sends cmd to db and returns the reply. Server errors come back as *CommandError; every
// error names op and the host.
func (n *DriverNode) run(ctx context.Context, db, op string, cmd bson.D) (bson.Raw, error) {
	res := n.client.Database(db).RunCommand(ctx, cmd,
		options.RunCmd().SetReadPreference(readpref.PrimaryPreferred()))
	raw, err := res.Raw()
	if err != nil {
		return raw, opError(op, n.addr, fromDriver(err))
	}
	return raw, nil
}

func (n *DriverNode) admin(ctx context.Context, op string, cmd bson.D) (bson.Raw, error) {
	return n.run(ctx, "admin", op, cmd)
}

func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		if hasPassword(uri) {
			return "<uri with credentials>"
		}
		return uri
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func hasPassword(uri string) bool {
	rest, ok := strings.CutPrefix(uri, "mongodb://")
	if !ok {
		rest, _ = strings.CutPrefix(uri, "mongodb+srv://")
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return false
	}
	if slash := strings.Index(rest, "/"); slash >= 0 && slash < at {
		return false
	}
	return strings.Contains(rest[:at], ":")
}
