package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Credentials of testdata/web-config-basic-auth.yml.
const (
	testUser     = "operator"
	testPassword = "correct horse battery staple"
)

// serving is a Server running on a loopback port until the test ends.
type serving struct {
	url  string
	stop func()
}

// serve starts s on 127.0.0.1:0 through the exporter toolkit and stops it
// when the test ends, requiring a clean shutdown.
func serve(t *testing.T, s *Server, scheme string) *serving {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	var once bool
	stop := func() {
		if once {
			return
		}
		once = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return &serving{url: scheme + "://" + l.Addr().String(), stop: stop}
}

// get requests url with client, with basic credentials when user is set.
func get(t *testing.T, client *http.Client, url, user, password string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(body)
}

func newClient(t *testing.T, tr *http.Transport) *http.Client {
	if tr == nil {
		tr = &http.Transport{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestBasicAuth(t *testing.T) {
	s := newTestServer(t, newFake(), Options{ConfigFile: filepath.Join("testdata", "web-config-basic-auth.yml")})
	srv := serve(t, s, "http")
	client := newClient(t, nil)
	for _, tc := range []struct {
		name, path, user, password string
		code                       int
	}{
		{"no credentials", "/metrics", "", "", 401},
		{"wrong password", "/metrics", testUser, "wrong", 401},
		{"unknown user", "/metrics", "root", testPassword, 401},
		{"metrics", "/metrics", testUser, testPassword, 200},
		{"page without credentials", "/", "", "", 401},
		{"page", "/", testUser, testPassword, 200},
		{"api without credentials", "/api/v1/summary", "", "", 401},
		{"api", "/api/v1/summary", testUser, testPassword, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, client, srv.url+tc.path, tc.user, tc.password)
			if code != tc.code {
				t.Errorf("status %d, want %d: %s", code, tc.code, body)
			}
		})
	}
}

// writeTestCert writes a self-signed certificate for 127.0.0.1 and its key
// into dir and returns the certificate's pool.
func writeTestCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "scmon test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("server.crt", "CERTIFICATE", der)
	write("server.key", "EC PRIVATE KEY", keyDER)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	pool := writeTestCert(t, dir)
	users, err := os.ReadFile(filepath.Join("testdata", "web-config-basic-auth.yml"))
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "web-config.yml")
	// Relative paths in the file are resolved against its directory.
	tlsPart := "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS13\n"
	if err := os.WriteFile(config, append([]byte(tlsPart), users...), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, newFake(), Options{ConfigFile: config})
	srv := serve(t, s, "https")

	client := newClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}})
	if code, body := get(t, client, srv.url+"/-/healthy", "", ""); code != 401 {
		t.Errorf("without credentials: status %d: %s", code, body)
	}
	if code, body := get(t, client, srv.url+"/api/v1/summary", testUser, testPassword); code != 200 || !strings.Contains(body, `"headline"`) {
		t.Errorf("with credentials: status %d: %s", code, body)
	}

	// A client that does not trust the certificate cannot connect.
	untrusting := newClient(t, &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12}})
	if _, err := untrusting.Get(srv.url + "/-/healthy"); err == nil {
		t.Error("a client without the test CA connected")
	}
	// Nor does one that offers only TLS 1.2.
	old := newClient(t, &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}})
	if _, err := old.Get(srv.url + "/-/healthy"); err == nil {
		t.Error("a TLS 1.2 client connected to a TLS 1.3-only server")
	}
	// Plain HTTP on the TLS port is refused.
	plainClient := newClient(t, nil)
	if code, _ := get(t, plainClient, "http"+strings.TrimPrefix(srv.url, "https")+"/-/healthy", testUser, testPassword); code != http.StatusBadRequest {
		t.Errorf("plain HTTP on the TLS port: status %d", code)
	}
}

func TestBadWebConfig(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"missing file", filepath.Join("testdata", "no-such-file.yml"), "no-such-file.yml"},
		{"bad file", filepath.Join("testdata", "web-config-bad.yml"), "web-config-bad.yml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, newFake(), Options{ConfigFile: tc.file, ListenAddresses: []string{"127.0.0.1:0"}})
			err := s.ListenAndServe(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ListenAndServe: %v, want an error naming %s", err, tc.want)
			}
			l, lerr := net.Listen("tcp", "127.0.0.1:0")
			if lerr != nil {
				t.Fatal(lerr)
			}
			if err := s.Serve(context.Background(), l); err == nil {
				t.Error("Serve accepted a bad web configuration")
			}
		})
	}
}

func TestListenAndServeShutdown(t *testing.T) {
	s := newTestServer(t, newFake(), Options{ListenAddresses: []string{"127.0.0.1:0", "127.0.0.1:0"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ListenAndServe after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ListenAndServe did not return after its context ended")
	}

	// An address in use is an error, not a hang.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s = newTestServer(t, newFake(), Options{ListenAddresses: []string{l.Addr().String()}})
	err = s.ListenAndServe(context.Background())
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("ListenAndServe on a used address: %v", err)
	}
}
