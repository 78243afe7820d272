package apiclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// transport is the default transport, with the CA and the client certificate when given.
func transport(caFile, certFile, keyFile string) (*http.Transport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile == "" && certFile == "" && keyFile == "" {
		return tr, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("apiclient: CAFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("apiclient: CAFile %s: no PEM certificate in it", caFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile == "":
		return nil, fmt.Errorf("apiclient: CertFile %s is given without KeyFile", certFile)
	case keyFile != "" && certFile == "":
		return nil, fmt.Errorf("apiclient: KeyFile %s is given without CertFile", keyFile)
	case certFile != "":
		for name, f := range map[string]string{"CertFile": certFile, "KeyFile": keyFile} {
			if _, err := os.Stat(f); err != nil {
				return nil, fmt.Errorf("apiclient: %s: %w", name, err)
			}
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("apiclient: CertFile %s / KeyFile %s: %w", certFile, keyFile, errors.Unwrap(err))
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	tr.TLSClientConfig = cfg
	return tr, nil
}
