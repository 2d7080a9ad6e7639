package plugin

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// Defaults and bounds of the settings.
const (
	// DefaultTimeout bounds one request to scmon when the settings name no
	// timeout. scmon itself gives up on a query after 60 s by default.
	DefaultTimeout = 30 * time.Second
	// MaxTimeout is the longest timeout the settings may ask for.
	MaxTimeout = 10 * time.Minute
)

// Settings are one data source instance's settings, parsed and validated
// by LoadSettings, the only place that reads Grafana's configuration.
type Settings struct {
	// URL is scmon's address: scheme, host and an optional path prefix.
	URL *url.URL
	// BasicAuthUser and BasicAuthPassword authenticate to scmon when its
	// --web.config.file asks for basic authentication; both empty means
	// none.
	BasicAuthUser     string
	BasicAuthPassword string
	// TLSSkipVerify accepts any certificate of an https URL (a test
	// setup with a self-signed certificate).
	TLSSkipVerify bool
	// TLSServerName is the name scmon's certificate must carry when it is
	// not the URL's host.
	TLSServerName string
	// TLSCACert, TLSClientCert and TLSClientKey are PEM blocks from
	// secureJsonData: the CA that signed scmon's certificate (the system's
	// CAs when empty) and the client certificate scmon's web configuration
	// may ask for.
	TLSCACert, TLSClientCert, TLSClientKey string
	// AllowGroupByAccountUser lets queries group (or filter figures) by
	// account and user and lets the account and user lists be served.
	// Off by default: usage per user is personal data, and anyone who may
	// query the data source in Grafana would see it.
	AllowGroupByAccountUser bool
	// Timeout bounds one request to scmon.
	Timeout time.Duration
	// Unknown lists the jsonData keys the plugin does not know, sorted.
	// They are ignored by queries, and the health check reports them, so
	// that a misspelt key is seen where the data source is tested rather
	// than silently dropped.
	Unknown []string
}

// jsonDataKeys are the keys of jsonData the plugin reads.
var jsonDataKeys = []string{"allowGroupByAccountUser", "basicAuthUser", "timeout", "tlsServerName", "tlsSkipVerify", "url"}

// The secureJsonData keys: the basic-auth password and the TLS PEM blocks.
const (
	secureKeyPassword   = "basicAuthPassword"
	secureKeyCACert     = "tlsCACert"
	secureKeyClientCert = "tlsClientCert"
	secureKeyClientKey  = "tlsClientKey"
)

// LoadSettings reads an instance's settings:
//
//	jsonData.url            scmon's URL (Grafana's own URL field is used when it is empty)
//	jsonData.basicAuthUser  basic-auth user (Grafana's basic-auth user when it is empty and basic auth is on)
//	jsonData.tlsSkipVerify  true to accept any certificate
//	jsonData.timeout        seconds per request to scmon (a number, or a string such as "45" or "1m")
//	jsonData.tlsServerName  the name scmon's certificate carries, when not the URL's host
//	jsonData.allowGroupByAccountUser  true to allow grouping by account and user
//	secureJsonData.basicAuthPassword
//	secureJsonData.tlsCACert, tlsClientCert, tlsClientKey (PEM)
//
// The error names the key at fault.
func LoadSettings(s backend.DataSourceInstanceSettings) (Settings, error) {
	var out Settings
	var raw map[string]json.RawMessage
	if js := bytes.TrimSpace(s.JSONData); len(js) > 0 && !bytes.Equal(js, []byte("null")) {
		if err := json.Unmarshal(js, &raw); err != nil {
			return out, fmt.Errorf("jsonData is not a JSON object: %w", err)
		}
	}
	for k := range raw {
		if !slices.Contains(jsonDataKeys, k) {
			out.Unknown = append(out.Unknown, k)
		}
	}
	slices.Sort(out.Unknown)

	rawURL, err := stringKey(raw, "url")
	if err != nil {
		return out, err
	}
	if rawURL == "" {
		rawURL = strings.TrimSpace(s.URL)
	}
	if out.URL, err = parseURL(rawURL); err != nil {
		return out, err
	}

	if out.BasicAuthUser, err = stringKey(raw, "basicAuthUser"); err != nil {
		return out, err
	}
	if out.BasicAuthUser == "" && s.BasicAuthEnabled {
		out.BasicAuthUser = s.BasicAuthUser
	}
	out.BasicAuthPassword = s.DecryptedSecureJSONData[secureKeyPassword]
	switch {
	case out.BasicAuthUser != "" && out.BasicAuthPassword == "":
		return out, errors.New("jsonData.basicAuthUser is set but secureJsonData.basicAuthPassword is empty")
	case out.BasicAuthUser == "" && out.BasicAuthPassword != "":
		return out, errors.New("secureJsonData.basicAuthPassword is set but jsonData.basicAuthUser is empty")
	}

	for key, dst := range map[string]*bool{"tlsSkipVerify": &out.TLSSkipVerify, "allowGroupByAccountUser": &out.AllowGroupByAccountUser} {
		if v, ok := raw[key]; ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			if err := json.Unmarshal(v, dst); err != nil {
				return out, fmt.Errorf("jsonData.%s: want true or false, not %s", key, v)
			}
		}
	}
	if out.TLSServerName, err = stringKey(raw, "tlsServerName"); err != nil {
		return out, err
	}
	if err := loadTLS(&out, s.DecryptedSecureJSONData); err != nil {
		return out, err
	}

	out.Timeout = DefaultTimeout
	if v, ok := raw["timeout"]; ok {
		if out.Timeout, err = parseTimeout(v); err != nil {
			return out, err
		}
	}
	return out, nil
}

// stringKey reads a string key of jsonData; absent or null is "".
func stringKey(raw map[string]json.RawMessage, key string) (string, error) {
	v, ok := raw[key]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("jsonData.%s: want a string, not %s", key, v)
	}
	return strings.TrimSpace(s), nil
}

func parseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("jsonData.url is required: the address of `scmon serve`, such as http://scmon.example.org:9810")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("jsonData.url %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("jsonData.url %q: want an http:// or https:// URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("jsonData.url %q: no host", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("jsonData.url %q: put credentials in basicAuthUser and secureJsonData.basicAuthPassword, not in the URL", u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("jsonData.url %q: no query or fragment, please", s)
	}
	return u, nil
}

// parseTimeout reads jsonData.timeout: seconds as a number, or a string of
// seconds or of a Go duration. Zero means DefaultTimeout.
func parseTimeout(v json.RawMessage) (time.Duration, error) {
	var secs float64
	var s string
	switch {
	case json.Unmarshal(v, &secs) == nil:
	case json.Unmarshal(v, &s) == nil:
		s = strings.TrimSpace(s)
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			d, derr := time.ParseDuration(s)
			if derr != nil {
				return 0, fmt.Errorf("jsonData.timeout %q: want seconds (30) or a duration (\"1m\")", s)
			}
			f = d.Seconds()
		}
		secs = f
	default:
		return 0, fmt.Errorf("jsonData.timeout: want seconds (30) or a duration (\"1m\"), not %s", v)
	}
	switch {
	case secs == 0:
		return DefaultTimeout, nil
	case secs < 0 || secs > MaxTimeout.Seconds() || math.IsNaN(secs):
		return 0, fmt.Errorf("jsonData.timeout %gs: want more than 0 and at most %s", secs, MaxTimeout)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// loadTLS reads the PEM blocks of secureJsonData and checks that they
// parse, so that a pasted certificate with a missing line is named in the
// health check rather than failing every request with a TLS error.
func loadTLS(out *Settings, secure map[string]string) error {
	out.TLSCACert = strings.TrimSpace(secure[secureKeyCACert])
	out.TLSClientCert = strings.TrimSpace(secure[secureKeyClientCert])
	out.TLSClientKey = strings.TrimSpace(secure[secureKeyClientKey])
	if out.TLSCACert != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(out.TLSCACert)) {
		return errors.New("secureJsonData.tlsCACert: no PEM certificate in it")
	}
	switch {
	case out.TLSClientCert == "" && out.TLSClientKey == "":
		return nil
	case out.TLSClientCert == "":
		return errors.New("secureJsonData.tlsClientKey is set but secureJsonData.tlsClientCert is empty")
	case out.TLSClientKey == "":
		return errors.New("secureJsonData.tlsClientCert is set but secureJsonData.tlsClientKey is empty")
	}
	if _, err := tls.X509KeyPair([]byte(out.TLSClientCert), []byte(out.TLSClientKey)); err != nil {
		return fmt.Errorf("secureJsonData.tlsClientCert and tlsClientKey: %w", err)
	}
	return nil
}
