package mongoemu

import (
	"log/slog"
	"net"
	"strconv"
)

// Options configure one emulated mongod process.
type Options struct {
	// BindIP is a comma-separated list of addresses to listen on (mongod --bind_ip).
	BindIP string
	// Port is the TCP port (mongod --port). 0 picks a free port (tests).
	Port int
	// DBPath is the data directory (mongod --dbpath).
	DBPath string
	// ReplSet is the replica-set name (mongod --replSet); empty runs a standalone.
	ReplSet string
	// OplogSizeMB caps local.oplog.rs (mongod --oplogSizeMB); 0 = default.
	OplogSizeMB int
	// Parameters are --setParameter name=value pairs applied at start.
	Parameters map[string]string
	// LogPath receives mongod-style JSON log lines; empty logs to Logger only.
	LogPath string
	// Logger receives the same events as structured slog records. Nil discards.
	Logger *slog.Logger
	// Security is --auth, --keyFile, --clusterAuthMode and --tls* (auth_options.go).
	Security Security
}

// hostPort is the address this node calls itself: the first bind address and the port.
func (o Options) hostPort(port int) string {
	host := o.BindIP
	for i := 0; i < len(host); i++ {
		if host[i] == ',' {
			host = host[:i]
			break
		}
	}
	if host == "" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
