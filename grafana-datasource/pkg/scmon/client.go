// Package scmon is a small client of scmon's HTTP API (/api/v1/figures,
// /api/v1/jobs, /api/v1/summary and /-/ready), as a running `scmon serve`
// answers it.
//
// It decodes into the API's own types (package api/v1 of the daemon's
// module, which builds with the standard library alone), so the plugin
// ships without the daemon's dependencies (the job store's SQLite, the
// configuration loader) and a field the daemon renames breaks the build or
// the API's golden tests rather than a dashboard.
package scmon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	apiv1 "github.com/scmon/scmon/api/v1"
)

// DefaultMaxBody bounds one answer of scmon. An hourly series of a month
// grouped by a few dozen accounts is about 30 MiB; beyond this the query
// should use a longer period or fewer groups.
const DefaultMaxBody = 128 << 20

// Client asks one scmon server. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	hc      *http.Client
	maxBody int64
}

// NewClient returns a client of the scmon server at base (scheme, host and
// an optional path prefix when scmon sits behind a reverse proxy). hc does
// the requests: its transport carries TLS, authentication and timeouts.
func NewClient(base *url.URL, hc *http.Client) *Client {
	b := *base
	b.RawQuery, b.Fragment = "", ""
	return &Client{base: &b, hc: hc, maxBody: DefaultMaxBody}
}

// Errors of answers that are not scmon's.
var (
	// ErrNotScmon marks a 200 answer that is not the JSON scmon sends: the
	// URL is that of another server, or of a proxy's login page.
	ErrNotScmon = errors.New("not scmon's JSON (is the URL that of `scmon serve`?)")
	// ErrTooLarge marks an answer larger than the client reads.
	ErrTooLarge = errors.New("answer too large")
)

// APIError is an answer of scmon other than 200 OK. Message is scmon's own
// explanation (the "error" of its JSON body, or the text of a plain
// answer), which names the parameter at fault for a 400.
type APIError struct {
	Path       string
	StatusCode int
	Message    string
}

func (e *APIError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("scmon answered %d on %s: %s", e.StatusCode, e.Path, msg)
}

// PathReady is scmon's readiness endpoint; the API's own paths are in
// package api/v1.
const PathReady = "/-/ready"

// URL returns the address of path with parameters v on this server, as
// shown to people (in Grafana's query inspector).
func (c *Client) URL(path string, v url.Values) string {
	u := c.base.JoinPath(path)
	u.RawQuery = v.Encode()
	u.User = nil
	return u.String()
}

// Figures asks for the figures of q.
func (c *Client) Figures(ctx context.Context, q apiv1.FiguresRequest) (*apiv1.Report, error) {
	var r apiv1.Report
	if err := c.getJSON(ctx, apiv1.PathFigures, q.Values(), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Jobs asks for the job rows of q.
func (c *Client) Jobs(ctx context.Context, q apiv1.JobsRequest) (*apiv1.JobsPage, error) {
	var p apiv1.JobsPage
	if err := c.getJSON(ctx, apiv1.PathJobs, q.Values(), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Summary asks for the summary of the present.
func (c *Client) Summary(ctx context.Context) (*apiv1.Summary, error) {
	var s apiv1.Summary
	if err := c.getJSON(ctx, apiv1.PathSummary, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Ready asks whether scmon is ready; it returns scmon's message when it
// is and an *APIError carrying the reason (a 503) when it is not.
func (c *Client) Ready(ctx context.Context) (string, error) {
	body, err := c.get(ctx, PathReady, nil)
	if err != nil {
		return "", err
	}
	return oneLine(body), nil
}

func (c *Client) getJSON(ctx context.Context, path string, v url.Values, out any) error {
	body, err := c.get(ctx, path, v)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("answer of %s: %w: %v", path, ErrNotScmon, err)
	}
	return nil
}

// get does one GET and returns the body of a 200 answer.
func (c *Client) get(ctx context.Context, path string, v url.Values) ([]byte, error) {
	u := c.base.JoinPath(path)
	u.RawQuery = v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("build request for %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask scmon %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read answer of %s: %w", path, err)
	}
	if int64(len(body)) > c.maxBody {
		return nil, fmt.Errorf("answer of %s: %w: more than %d MiB (use a longer period, a shorter range or fewer groups)", path, ErrTooLarge, c.maxBody>>20)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &APIError{Path: path, StatusCode: resp.StatusCode, Message: errorMessage(body)}
	}
	return body, nil
}

// errorMessage extracts scmon's explanation from an error answer: the
// "error" of its JSON body, or the first part of a plain text (a reverse
// proxy's page, the readiness endpoint's reason).
func errorMessage(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return oneLine(body)
}

// oneLine returns text with its white space collapsed, cut to 300 bytes.
func oneLine(b []byte) string {
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(b, []byte("?")))), " ")
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}

// IsStatus reports whether err is an answer of scmon with the given status
// code.
func IsStatus(err error, code int) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == code
}
