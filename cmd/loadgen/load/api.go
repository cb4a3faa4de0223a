package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
)

// API is a small client of Switchboard's REST API, signed in as an admin with a session cookie (and
// its CSRF token) or with a bearer API token.
type API struct {
	base   string
	http   *http.Client
	csrf   string
	bearer string
}

// NewAPI returns a client of the server at base (http://host:port).
func NewAPI(base string, client *http.Client) *API {
	if client == nil {
		client = &http.Client{}
	}
	jar, _ := cookiejar.New(nil)
	c := *client
	c.Jar = jar
	return &API{base: strings.TrimRight(base, "/"), http: &c}
}

// Base returns the server's base URL.
func (a *API) Base() string { return a.base }

// UseToken makes the client authenticate with a bearer API token instead of signing in.
func (a *API) UseToken(token string) { a.bearer = token }

// Login signs in with email and password and keeps the session cookie and CSRF token.
func (a *API) Login(ctx context.Context, email, password string) error {
	var out struct {
		CSRFToken string `json:"csrf_token"`
	}
	if err := a.Do(ctx, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": password}, http.StatusOK, &out); err != nil {
		return fmt.Errorf("sign in as %s: %w", email, err)
	}
	a.csrf = out.CSRFToken
	return nil
}

// StatusError is an answer with an unexpected status.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Do sends a JSON request and decodes the answer into out when its status is want.
func (a *API) Do(ctx context.Context, method, path string, body any, want int, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+a.bearer)
	} else if a.csrf != "" {
		req.Header.Set("X-CSRF-Token", a.csrf)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if res.StatusCode != want {
		return &StatusError{Method: method, Path: path, Status: res.StatusCode, Body: strings.TrimSpace(string(data))}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode %q: %w", method, path, data, err)
		}
	}
	return nil
}

// ChannelInfo is what the loadgen keeps of a created channel.
type ChannelInfo struct {
	ID         int64  `json:"id"`
	WebhookURL string `json:"webhook_url"`
}

// CreateChannel connects the fake number as a WhatsApp channel.
func (a *API) CreateChannel(ctx context.Context, name, phone, phoneNumberID, wabaID, token, appSecret string) (*ChannelInfo, error) {
	var ch ChannelInfo
	err := a.Do(ctx, "POST", "/api/v1/channels", map[string]any{"name": name, "phone_number": phone, "phone_number_id": phoneNumberID,
		"business_account_id": wabaID, "api_key": token, "app_secret": appSecret}, http.StatusCreated, &ch)
	return &ch, err
}

// EnableGreeting turns the channel's greeting automation on: every new conversation gets an
// automatic reply, which goes out through the fake Graph API.
func (a *API) EnableGreeting(ctx context.Context, channelID int64) error {
	return a.Do(ctx, "PUT", fmt.Sprintf("/api/v1/channels/%d/settings", channelID),
		map[string]any{"greeting": map[string]any{"enabled": true, "text": "Hi! Thanks for contacting us. An agent will be with you shortly."}},
		http.StatusOK, nil)
}

// CreateAgent creates a human agent and returns its id.
func (a *API) CreateAgent(ctx context.Context, name, email, password string) (int64, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	err := a.Do(ctx, "POST", "/api/v1/agents", map[string]string{"name": name, "email": email, "password": password, "role": "agent"},
		http.StatusCreated, &out)
	return out.ID, err
}

// AddMember makes the agent a member of the channel with a capacity of open conversations.
func (a *API) AddMember(ctx context.Context, channelID, agentID int64, capacity int) error {
	return a.Do(ctx, "POST", fmt.Sprintf("/api/v1/channels/%d/members", channelID),
		map[string]any{"agent_id": agentID, "capacity": capacity}, http.StatusCreated, nil)
}

// CreateToken creates an API token acting as the agent and returns it.
func (a *API) CreateToken(ctx context.Context, agentID int64, name string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := a.Do(ctx, "POST", "/api/v1/tokens", map[string]any{"name": name, "agent_id": agentID}, http.StatusCreated, &out)
	return out.Token, err
}

// QueuedJobs reports whether the server has a job of this kind waiting to run (admin).
func (a *API) QueuedJobs(ctx context.Context, kind string) (bool, error) {
	var jobs struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := a.Do(ctx, "GET", "/api/v1/jobs?state=queued&limit=1&kind="+url.QueryEscape(kind), nil, http.StatusOK, &jobs); err != nil {
		return false, err
	}
	return len(jobs.Data) > 0, nil
}

// Metrics reads the server's Prometheus metrics (GET /metrics) as name{labels} → value, for the
// series the report uses.
func (a *API) Metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", a.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d", res.StatusCode)
	}
	return ParseMetrics(res.Body)
}

// ParseMetrics reads Prometheus' text format into series name (with its labels as written) → value.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i <= 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}
