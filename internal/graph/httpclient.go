package graph

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/o365prov/o365prov/internal/config"
)

// NewHTTPClient builds the HTTP client for Graph and the login endpoint from
// the target's proxy and extra CA. Its connection pool keeps a connection
// for each exchange the client may run at once: maxThreads, or more when
// Graph is slow (up to 64, see Client.InFlight).
func NewHTTPClient(target config.Target, maxThreads int) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(maxThreads, maxSenders) + 2
	tr.ResponseHeaderTimeout = 2 * time.Minute
	if target.Proxy != "" {
		u, err := url.Parse(target.Proxy)
		if err != nil {
			return nil, fmt.Errorf("target.proxy %q: %w", target.Proxy, err)
		}
		tr.Proxy = http.ProxyURL(u)
	}
	if target.CAFile != "" {
		pem, err := os.ReadFile(target.CAFile)
		if err != nil {
			return nil, fmt.Errorf("target.caFile: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("target.caFile %s: no PEM certificate in it", target.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}
