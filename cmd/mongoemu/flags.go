package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/rsguard/rsguard/mongoemu"
	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// Exit codes are mongod's (src/mongo/util/exit_code.h), so scripts and the e2e harness can treat
// mongoemu and mongod alike.
const (
	exitClean      = 0
	exitFailure    = 1   // EXIT_FAILURE: initializeServerSecurityGlobalState failed (bad --keyFile)
	exitBadOptions = 2   // EXIT_BADOPTIONS: the command line was refused
	exitAbrupt     = 14  // EXIT_ABRUPT: fatal error while running (e.g. unrecoverable rollback)
	exitNetError   = 48  // EXIT_NET_ERROR: could not listen
	exitUncaught   = 100 // EXIT_UNCAUGHT: DBException at startup (dbpath missing or locked)
)

const usage = `Options:
  --help                       Show this usage information
  --version                    Show version information
  --port arg                   Specify port number - 27017 by default
  --bind_ip arg                Comma separated list of ip addresses to listen on
                               - localhost by default
  --bind_ip_all                Bind to all ip addresses
  --dbpath arg                 Directory for datafiles - defaults to /data/db
  --replSet arg                arg is <setname>[/<optionalseedhostlist>]
  --oplogSizeMB arg            Size to use (in MB) for replication op log.
  --setParameter arg           Set a configurable parameter (name=value)
  --logpath arg                Log file to send write to instead of stdout
  --logappend                  Append to logpath instead of over-writing
  --quiet                      Quieter output
  --nounixsocket               Accepted for compatibility (mongoemu opens no unix socket)
  --wiredTigerCacheSizeGB arg  Accepted for compatibility (ignored)

Security options:
  --auth                       Run with security
  --keyFile arg                Private key for cluster authentication
  --clusterAuthMode arg        Authentication mode used for cluster authentication
                               (keyFile|sendKeyFile|sendX509|x509)
  --tlsMode arg                Set the TLS operation mode (disabled|allowTLS|preferTLS|requireTLS)
  --tlsCertificateKeyFile arg  Certificate and key file for TLS
  --tlsCAFile arg              Certificate Authority file for TLS
  --tlsAllowInvalidCertificates
                               Allow connections to servers with invalid certificates
  --tlsAllowConnectionsWithoutCertificates
                               Allow client to connect without presenting a certificate
  (the legacy --ssl* spellings are accepted)

mongoemu emulates a MongoDB ` + mongoemu.ServerVersion + ` mongod; --fork is not supported.
`

// printParseError reports a refused command line the way mongod does, on stderr.
func printParseError(w io.Writer, err error) {
	_, _ = fmt.Fprintln(w, err.Error())
	_, _ = fmt.Fprintln(w, "try 'mongoemu --help' for more information")
}

// dbPathMissing is mongod's NonExistentPath check: unlike the storage layer, mongod never
// creates the dbpath itself.
func dbPathMissing(path string) error {
	fi, err := os.Stat(path)
	if err == nil && fi.IsDir() {
		return nil
	}
	return fmt.Errorf("NonExistentPath: Data directory %s not found. Create the missing directory or specify another path "+
		"using (1) the --dbpath command line option, or (2) by adding the 'storage.dbPath' option in the configuration file.", path)
}

// startupExitCode maps an error from mongoemu.New to mongod's exit code.
func startupExitCode(err error) int {
	var me *mongoerr.Error
	if errors.As(err, &me) && me.Code == mongoerr.DBPathInUse {
		return exitUncaught
	}
	var ke *mongoemu.KeyFileError
	if errors.As(err, &ke) {
		return exitFailure
	}
	if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EACCES) {
		return exitNetError
	}
	return exitUncaught
}

// rotateOldLog renames an existing log file aside, as mongod does without --logappend.
func rotateOldLog(path string) error {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	aside := path + "." + time.Now().UTC().Format("2006-01-02T15-04-05")
	if err := os.Rename(path, aside); err != nil {
		return fmt.Errorf("rotate old log %s: %w", path, err)
	}
	return nil
}
