package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rsguard/rsguard/mongoemu"
)

func TestParseArgs(t *testing.T) {
	def := mongoemu.Options{Port: 27017, BindIP: "127.0.0.1", DBPath: mongoemu.DefaultDBPath}
	with := func(f func(o *mongoemu.Options)) mongoemu.Options { o := def; f(&o); return o }
	tests := []struct {
		name    string
		args    []string
		want    mongoemu.Options
		wantErr string
	}{
		{name: "defaults", args: nil, want: def},
		{name: "full", args: []string{"--port", "28001", "--bind_ip", "127.0.0.2,127.0.0.3", "--dbpath", "/d",
			"--replSet", "rs0", "--oplogSizeMB", "64", "--setParameter", "enableTestCommands=1",
			"--setParameter", "writePeriodicNoops=false", "--logpath", "/l.log", "--logappend", "--quiet"},
			want: mongoemu.Options{Port: 28001, BindIP: "127.0.0.2,127.0.0.3", DBPath: "/d", ReplSet: "rs0",
				OplogSizeMB: 64, LogPath: "/l.log",
				Parameters: map[string]string{"enableTestCommands": "1", "writePeriodicNoops": "false"}}},
		{name: "equals form", args: []string{"--port=28002", "--dbpath=/x"},
			want: with(func(o *mongoemu.Options) { o.Port, o.DBPath = 28002, "/x" })},
		{name: "bind_ip_all", args: []string{"--bind_ip_all"},
			want: with(func(o *mongoemu.Options) { o.BindIP = "0.0.0.0" })},
		{name: "replSet seed list form", args: []string{"--replSet", "rs1/h1:1,h2:2"},
			want: with(func(o *mongoemu.Options) { o.ReplSet = "rs1" })},
		{name: "compat no-ops", args: []string{"--nounixsocket", "--wiredTigerCacheSizeGB", "0.25"}, want: def},
		{name: "unknown flag", args: []string{"--foo"}, wantErr: "Error parsing command line: unrecognised option '--foo'"},
		{name: "unknown short flag", args: []string{"-x"}, wantErr: "unrecognised option '-x'"},
		{name: "positional", args: []string{"extra"}, wantErr: "too many positional options"},
		{name: "missing value at end", args: []string{"--port"},
			wantErr: "the required argument for option '--port' is missing"},
		{name: "missing value before flag", args: []string{"--dbpath", "--port", "1"},
			wantErr: "the required argument for option '--dbpath' is missing"},
		{name: "bad port", args: []string{"--port", "abc"},
			wantErr: "the argument ('abc') for option '--port' is invalid"},
		{name: "port out of range", args: []string{"--port", "70000"}, wantErr: "not in range [0, 65535]"},
		{name: "repeated port", args: []string{"--port", "1", "--port", "2"},
			wantErr: "option '--port' cannot be specified more than once"},
		{name: "switch with value", args: []string{"--quiet=1"},
			wantErr: "option '--quiet' does not take any arguments"},
		{name: "bind_ip and bind_ip_all", args: []string{"--bind_ip", "127.0.0.1", "--bind_ip_all"},
			wantErr: "mutually exclusive"},
		{name: "setParameter without =", args: []string{"--setParameter", "enableTestCommands"},
			wantErr: "Illegal option assignment"},
		{name: "unknown setParameter", args: []string{"--setParameter", "noSuchParam=1"},
			wantErr: "Unknown --setParameter 'noSuchParam'"},
		{name: "bad setParameter value", args: []string{"--setParameter", "enableTestCommands=maybe"},
			wantErr: "Bad value for parameter"},
		{name: "fork", args: []string{"--fork"}, wantErr: "--fork is not supported by mongoemu"},
		{name: "bad oplogSizeMB", args: []string{"--oplogSizeMB", "0"}, wantErr: "--oplogSizeMB"},
		{name: "security", args: []string{"--keyFile", "/k", "--tlsMode", "requireTLS", "--tlsCertificateKeyFile", "/c.pem",
			"--tlsCAFile", "/ca.pem", "--tlsAllowConnectionsWithoutCertificates"},
			want: with(func(o *mongoemu.Options) {
				o.Security = mongoemu.Security{KeyFile: "/k", TLSMode: "requireTLS", TLSCertificateKeyFile: "/c.pem",
					TLSCAFile: "/ca.pem", TLSAllowConnectionsWithoutCertificates: true}
			})},
		{name: "legacy ssl spelling", args: []string{"--auth", "--sslMode", "preferSSL", "--sslPEMKeyFile", "/c.pem"},
			want: with(func(o *mongoemu.Options) {
				o.Security = mongoemu.Security{Auth: true, TLSMode: "preferTLS", TLSCertificateKeyFile: "/c.pem"}
			})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mongoemu.ParseArgs(tc.args)
			if tc.wantErr != "" {
				var ae *mongoemu.ArgError
				if err == nil || !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseArgs(%q) error = %v, want an ArgError containing %q", tc.args, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseArgs(%q): %v", tc.args, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseArgs(%q)\n got %+v\nwant %+v", tc.args, got, tc.want)
			}
		})
	}
}

func TestParseCommandLineSwitches(t *testing.T) {
	cl, err := mongoemu.ParseCommandLine([]string{"--logappend", "--quiet", "--version", "-h"})
	if err != nil {
		t.Fatal(err)
	}
	if !cl.LogAppend || !cl.Quiet || !cl.Version || !cl.Help {
		t.Fatalf("switches not all set: %+v", cl)
	}
}

// TestRunExitCodes checks mongod's exit codes for refusals that happen before serving.
func TestRunExitCodes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	openKey := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(openKey, []byte("c2VjcmV0a2V5"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        []string
		code        int
		out, errOut string
	}{
		{name: "unknown flag", args: []string{"--foo"}, code: exitBadOptions,
			errOut: "Error parsing command line: unrecognised option '--foo'"},
		{name: "fork", args: []string{"--fork", "--dbpath", "/tmp"}, code: exitBadOptions, errOut: "not supported by mongoemu"},
		{name: "help", args: []string{"--help"}, code: exitClean, out: "--dbpath arg"},
		{name: "version", args: []string{"--version"}, code: exitClean, out: "db version v" + mongoemu.ServerVersion},
		{name: "dbpath missing", args: []string{"--dbpath", missing, "--port", "0"}, code: exitUncaught,
			out: "Data directory " + missing + " not found. Create the missing directory or specify another path using " +
				"(1) the --dbpath command line option, or (2) by adding the 'storage.dbPath' option in the configuration file."},
		// ssl_options_server.cpp storeSSLServerOptions: a uassert while storing options, EXIT_BADOPTIONS.
		{name: "requireTLS without certificate", args: []string{"--tlsMode", "requireTLS"}, code: exitBadOptions,
			errOut: "BadValue: need tlsCertificateKeyFile or certificateSelector when TLS is enabled"},
		{name: "TLS options without tlsMode", args: []string{"--tlsCAFile", "/ca.pem"}, code: exitBadOptions,
			errOut: "need to enable TLS via the sslMode/tlsMode flag when using TLS configuration parameters"},
		{name: "x509 cluster auth without TLS", args: []string{"--clusterAuthMode", "x509"}, code: exitBadOptions,
			errOut: "need to enable TLS via the tlsMode flag"},
		// security_file.cpp + mongod_main.cpp: a world-readable key file is EXIT_FAILURE (1).
		{name: "key file too open", args: []string{"--keyFile", openKey, "--dbpath", t.TempDir(), "--port", "0"}, code: exitFailure,
			out: "permissions on " + openKey + " are too open"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(tc.args, &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tc.out) || !strings.Contains(errOut.String(), tc.errOut) {
				t.Fatalf("output mismatch\nstdout: %s\nstderr: %s\nwant stdout ~ %q, stderr ~ %q", out.String(), errOut.String(), tc.out, tc.errOut)
			}
		})
	}
}

func TestVersionTextKeepsFieldOrder(t *testing.T) {
	txt := mongoemu.VersionText()
	if !strings.HasPrefix(txt, "db version v7.0.") || strings.Index(txt, `"version"`) > strings.Index(txt, `"gitVersion"`) {
		t.Fatalf("unexpected --version output:\n%s", txt)
	}
}
