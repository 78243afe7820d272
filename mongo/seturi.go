package mongo

import (
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// What DialSet and DialRegisters share: the connection string of a replica-set client and the
// driver options both start from.

// setURI is a replica-set client's connection string: uri when given (credentials and TLS
// options included), else "mongodb://<hosts>/?replicaSet=<set>"; "" when there is neither a
// uri nor a set name with at least one host.
func setURI(uri, set string, hosts []string) string {
	switch {
	case uri != "":
		return uri
	case set == "" || len(hosts) == 0:
		return ""
	}
	return "mongodb://" + strings.Join(hosts, ",") + "/?replicaSet=" + set
}

// setClientOptions are the driver options of a replica-set client at uri: appName, a 1s connect
// timeout, 500ms heartbeats, and serverSelection (default 1s, when not positive) bounding the
// wait for a primary, so that an operation during a failover fails fast.
func setClientOptions(uri, appName string, serverSelection time.Duration) *options.ClientOptions {
	if serverSelection <= 0 {
		serverSelection = time.Second
	}
	return options.Client().ApplyURI(uri).
		SetAppName(appName).
		SetConnectTimeout(time.Second).
		SetServerSelectionTimeout(serverSelection).
		SetHeartbeatInterval(500 * time.Millisecond)
}
