package mongoemu

import (
	"fmt"
	"strings"
)

// Security is mongod's security.* and net.tls.* configuration.
type Security struct {
	// Auth is --auth (security.authorization: enabled). A KeyFile implies it.
	Auth bool
	// KeyFile is --keyFile: the shared secret members authenticate to each other with.
	KeyFile string
	// ClusterAuthMode is --clusterAuthMode: "keyFile" (default with a KeyFile) or "x509".
	ClusterAuthMode string
	// TLSMode is --tlsMode: disabled (default), allowTLS, preferTLS or requireTLS.
	TLSMode string
	// TLSCertificateKeyFile is --tlsCertificateKeyFile: PEM with the certificate and its key.
	TLSCertificateKeyFile string
	// TLSCAFile is --tlsCAFile: the CA that signs peer and client certificates.
	TLSCAFile string
	// TLSAllowInvalidCertificates is --tlsAllowInvalidCertificates.
	TLSAllowInvalidCertificates bool
	// TLSAllowConnectionsWithoutCertificates is --tlsAllowConnectionsWithoutCertificates:
	// without it a node with a CA file requires every client to present a certificate.
	TLSAllowConnectionsWithoutCertificates bool
}

// authEnabled is mongod's isAuthEnabled: --auth, or any clusterAuthMode (a keyFile sets it),
// as initializeServerSecurityGlobalState does (db/initialize_server_security_state.cpp).
func (s Security) authEnabled() bool {
	return s.Auth || s.KeyFile != "" || s.ClusterAuthMode != ""
}

// clusterAuthMode is the effective --clusterAuthMode: keyFile when a key file is given.
func (s Security) clusterAuthMode() string {
	if s.ClusterAuthMode != "" {
		return s.ClusterAuthMode
	}
	if s.KeyFile != "" {
		return "keyFile"
	}
	return ""
}

func (s Security) tlsMode() string {
	if s.TLSMode == "" {
		return "disabled"
	}
	return s.TLSMode
}

// OptionError is a startup option mongod refuses after parsing (a uassert in an options
// store/validate step); it prints as "BadValue: <msg>" and the binary exits with 2
// (EXIT_BADOPTIONS).
type OptionError struct{ Msg string }

func (e *OptionError) Error() string { return "BadValue: " + e.Msg }

// validate applies the cross-option rules of util/net/ssl_options_server.cpp
// (storeSSLServerOptions) and db/auth/security_options: the messages are mongod's.
func (s Security) validate() error {
	switch s.tlsMode() {
	case "disabled", "allowTLS", "preferTLS", "requireTLS":
	default:
		return &OptionError{Msg: fmt.Sprintf("Invalid tlsMode: %s", s.TLSMode)}
	}
	switch s.ClusterAuthMode {
	case "", "keyFile", "sendKeyFile", "sendX509", "x509":
	default:
		return &OptionError{Msg: fmt.Sprintf("unsupported value for clusterAuthMode %s", s.ClusterAuthMode)}
	}
	if s.tlsMode() != "disabled" {
		if s.TLSCertificateKeyFile == "" {
			return &OptionError{Msg: "need tlsCertificateKeyFile or certificateSelector when TLS is enabled"}
		}
		if s.TLSCAFile == "" && strings.Contains(strings.ToLower(s.ClusterAuthMode), "x509") {
			return &OptionError{Msg: "No TLS certificate validation can be performed since no CA file has been provided; please specify an tlsCAFile parameter"}
		}
	} else if s.TLSCertificateKeyFile != "" || s.TLSCAFile != "" || s.TLSAllowConnectionsWithoutCertificates {
		return &OptionError{Msg: "need to enable TLS via the sslMode/tlsMode flag when using TLS configuration parameters"}
	}
	if strings.Contains(strings.ToLower(s.ClusterAuthMode), "x509") {
		if s.tlsMode() == "disabled" {
			return &OptionError{Msg: "need to enable TLS via the tlsMode flag"}
		}
		if s.tlsMode() == "allowTLS" {
			return &OptionError{Msg: "cannot have x.509 cluster authentication in allowTLS mode"}
		}
	}
	return nil
}

// securityFlags are mongod's --auth, --keyFile, --clusterAuthMode and --tls* options with their
// legacy --ssl* aliases (sslMode values end in SSL and are renamed as canonicalizeSSLServerOptions
// does).
func securityFlags() map[string]flagDef {
	sec := func(cl *CommandLine) *Security { return &cl.Options.Security }
	str := func(dst func(s *Security) *string) flagDef {
		return stringFlag(func(cl *CommandLine) *string { return dst(sec(cl)) })
	}
	sw := func(dst func(s *Security) *bool) flagDef {
		return switchFlag(func(cl *CommandLine) *bool { return dst(sec(cl)) })
	}
	mode := flagDef{kind: flagValue, set: func(cl *CommandLine, v string) error {
		if strings.HasSuffix(v, "SSL") {
			v = strings.TrimSuffix(v, "SSL") + "TLS"
		}
		switch v {
		case "disabled", "allowTLS", "preferTLS", "requireTLS":
		default:
			return argErr("the argument ('%s') for option '--tlsMode' is invalid", v)
		}
		sec(cl).TLSMode = v
		return nil
	}}
	cert := str(func(s *Security) *string { return &s.TLSCertificateKeyFile })
	ca := str(func(s *Security) *string { return &s.TLSCAFile })
	invalid := sw(func(s *Security) *bool { return &s.TLSAllowInvalidCertificates })
	noCert := sw(func(s *Security) *bool { return &s.TLSAllowConnectionsWithoutCertificates })
	return map[string]flagDef{
		"auth":                                   sw(func(s *Security) *bool { return &s.Auth }),
		"noauth":                                 {kind: flagSwitch, set: func(*CommandLine, string) error { return nil }},
		"keyFile":                                str(func(s *Security) *string { return &s.KeyFile }),
		"clusterAuthMode":                        str(func(s *Security) *string { return &s.ClusterAuthMode }),
		"tlsMode":                                mode,
		"sslMode":                                mode,
		"tlsCertificateKeyFile":                  cert,
		"sslPEMKeyFile":                          cert,
		"tlsCAFile":                              ca,
		"sslCAFile":                              ca,
		"tlsAllowInvalidCertificates":            invalid,
		"sslAllowInvalidCertificates":            invalid,
		"tlsAllowConnectionsWithoutCertificates": noCert,
		"sslAllowConnectionsWithoutCertificates": noCert,
		"tlsAllowInvalidHostnames":               {kind: flagSwitch, set: func(*CommandLine, string) error { return nil }},
		"sslAllowInvalidHostnames":               {kind: flagSwitch, set: func(*CommandLine, string) error { return nil }},
	}
}

// securityArgv is the part of a synthesized argv (getCmdLineOpts) that comes from Security.
func securityArgv(s Security) []string {
	var argv []string
	if s.Auth {
		argv = append(argv, "--auth")
	}
	if s.KeyFile != "" {
		argv = append(argv, "--keyFile", s.KeyFile)
	}
	if s.ClusterAuthMode != "" {
		argv = append(argv, "--clusterAuthMode", s.ClusterAuthMode)
	}
	if s.TLSMode != "" {
		argv = append(argv, "--tlsMode", s.TLSMode)
	}
	if s.TLSCertificateKeyFile != "" {
		argv = append(argv, "--tlsCertificateKeyFile", s.TLSCertificateKeyFile)
	}
	if s.TLSCAFile != "" {
		argv = append(argv, "--tlsCAFile", s.TLSCAFile)
	}
	return argv
}
