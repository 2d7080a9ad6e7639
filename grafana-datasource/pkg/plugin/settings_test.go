package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

func TestLoadSettings(t *testing.T) {
	f := func(js string, secure map[string]string, top backend.DataSourceInstanceSettings, want Settings) {
		t.Helper()
		top.JSONData = []byte(js)
		top.DecryptedSecureJSONData = secure
		got, err := LoadSettings(top)
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if got.URL.String() != want.URL.String() || got.BasicAuthUser != want.BasicAuthUser ||
			got.BasicAuthPassword != want.BasicAuthPassword || got.TLSSkipVerify != want.TLSSkipVerify ||
			got.Timeout != want.Timeout || strings.Join(got.Unknown, ",") != strings.Join(want.Unknown, ",") ||
			got.AllowGroupByAccountUser != want.AllowGroupByAccountUser || got.TLSServerName != want.TLSServerName {
			t.Errorf("%s:\n got %+v\nwant %+v", js, got, want)
		}
	}
	u := func(s string) Settings {
		st, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"url":"` + s + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	none := backend.DataSourceInstanceSettings{}

	f(`{"url":"http://scmon:9810"}`, nil, none, Settings{URL: u("http://scmon:9810").URL, Timeout: DefaultTimeout})
	f(`{"url":" https://x.org/scmon/ ","timeout":45,"tlsSkipVerify":true,"basicAuthUser":"grafana"}`,
		map[string]string{"basicAuthPassword": "s3cret"}, none,
		Settings{URL: u("https://x.org/scmon/").URL, BasicAuthUser: "grafana", BasicAuthPassword: "s3cret", TLSSkipVerify: true, Timeout: 45 * time.Second})
	// Grouping by account and user is off unless switched on.
	f(`{"url":"http://scmon:9810","allowGroupByAccountUser":true,"tlsServerName":"scmon.example.org"}`, nil, none,
		Settings{URL: u("http://scmon:9810").URL, Timeout: DefaultTimeout, AllowGroupByAccountUser: true, TLSServerName: "scmon.example.org"})
	f(`{"url":"http://scmon:9810","allowGroupByAccountUser":null}`, nil, none, Settings{URL: u("http://scmon:9810").URL, Timeout: DefaultTimeout})
	f(`{"url":"http://scmon:9810","timeout":"1m"}`, nil, none, Settings{URL: u("http://scmon:9810").URL, Timeout: time.Minute})
	f(`{"url":"http://scmon:9810","timeout":"2.5"}`, nil, none, Settings{URL: u("http://scmon:9810").URL, Timeout: 2500 * time.Millisecond})
	f(`{"url":"http://scmon:9810","timeout":0}`, nil, none, Settings{URL: u("http://scmon:9810").URL, Timeout: DefaultTimeout})
	// Grafana's own URL and basic-auth fields serve when jsonData has none.
	f(`{}`, map[string]string{"basicAuthPassword": "pw"},
		backend.DataSourceInstanceSettings{URL: "http://top:9810", BasicAuthEnabled: true, BasicAuthUser: "u"},
		Settings{URL: u("http://top:9810").URL, BasicAuthUser: "u", BasicAuthPassword: "pw", Timeout: DefaultTimeout})
	f(``, nil, backend.DataSourceInstanceSettings{URL: "http://top:9810", BasicAuthUser: "ignored-when-basic-auth-off"},
		Settings{URL: u("http://top:9810").URL, Timeout: DefaultTimeout})
	// Unknown keys are kept for the health check to report.
	f(`{"url":"http://scmon:9810","tlsSkipVerfy":true,"foo":1}`, nil, none,
		Settings{URL: u("http://scmon:9810").URL, Timeout: DefaultTimeout, Unknown: []string{"foo", "tlsSkipVerfy"}})
}

func TestLoadSettingsErrors(t *testing.T) {
	f := func(js string, secure map[string]string, want string) {
		t.Helper()
		_, err := LoadSettings(backend.DataSourceInstanceSettings{JSONData: []byte(js), DecryptedSecureJSONData: secure})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got error %v, want one containing %q", js, err, want)
		}
	}
	f(`{}`, nil, "jsonData.url is required")
	f(`{"url":"http://scmon","allowGroupByAccountUser":"yes"}`, nil, "jsonData.allowGroupByAccountUser: want true or false")
	f(`{"url":"http://scmon","tlsServerName":7}`, nil, "jsonData.tlsServerName: want a string")
	f(`{"url":"https://scmon"}`, map[string]string{"tlsCACert": "-----BEGIN CERTIFICATE-----\nMIIB\n"}, "secureJsonData.tlsCACert: no PEM certificate")
	f(`{"url":"https://scmon"}`, map[string]string{"tlsClientCert": "x"}, "tlsClientCert is set but secureJsonData.tlsClientKey is empty")
	f(`{"url":"https://scmon"}`, map[string]string{"tlsClientKey": "x"}, "tlsClientKey is set but secureJsonData.tlsClientCert is empty")
	f(`{"url":"https://scmon"}`, map[string]string{"tlsClientCert": "x", "tlsClientKey": "y"}, "secureJsonData.tlsClientCert and tlsClientKey")
	f(`[1]`, nil, "jsonData is not a JSON object")
	f(`{"url":42}`, nil, "jsonData.url: want a string")
	f(`{"url":"scmon:9810"}`, nil, "want an http:// or https:// URL")
	f(`{"url":"ftp://scmon"}`, nil, "want an http:// or https:// URL")
	f(`{"url":"http://"}`, nil, "no host")
	f(`{"url":"http://u:p@scmon"}`, nil, "not in the URL")
	f(`{"url":"http://scmon/?x=1"}`, nil, "no query or fragment")
	f(`{"url":"http://sc mon"}`, nil, "jsonData.url")
	f(`{"url":"http://scmon","basicAuthUser":"u"}`, nil, "basicAuthPassword is empty")
	f(`{"url":"http://scmon"}`, map[string]string{"basicAuthPassword": "p"}, "basicAuthUser is empty")
	f(`{"url":"http://scmon","basicAuthUser":["u"]}`, nil, "jsonData.basicAuthUser: want a string")
	f(`{"url":"http://scmon","tlsSkipVerify":"yes"}`, nil, "jsonData.tlsSkipVerify: want true or false")
	f(`{"url":"http://scmon","timeout":-1}`, nil, "jsonData.timeout -1s: want more than 0")
	f(`{"url":"http://scmon","timeout":1e300}`, nil, "jsonData.timeout")
	f(`{"url":"http://scmon","timeout":3600}`, nil, "at most 10m0s")
	f(`{"url":"http://scmon","timeout":"soon"}`, nil, `jsonData.timeout "soon"`)
	f(`{"url":"http://scmon","timeout":true}`, nil, "jsonData.timeout: want seconds")
}
