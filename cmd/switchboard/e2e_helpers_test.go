package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/store/storetest"
	"switchboard/whatsapp/graphtest"
)

// e2e is the real program (run) on a throwaway database, wired to a graphtest fake of Meta's Graph
// API that posts its status webhooks back to the program's real webhook endpoint.
type e2e struct {
	t      *testing.T
	base   string
	fake   *graphtest.Server
	http   *http.Client
	csrf   string
	number graphtest.Number
	chID   int64
	env    map[string]string // the process's environment
}

const e2ePassword = "e2e-admin-password"

// eachDatabase runs an end-to-end test on SQLite and on PostgreSQL (skipped without one, failed under
// CI), as subtests named after them; url is "" for SQLite.
func eachDatabase(t *testing.T, test func(t *testing.T, url string)) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			url := ""
			if db == "postgres" {
				url = storetest.PostgresURL(t)
			}
			test(t, url)
		})
	}
}

// wantTextSent checks that a send reached Meta as Meta documents a text message to `to`, with the
// channel's token.
func (e *e2e) wantTextSent(sent graphtest.SentMessage, to, text string) {
	e.t.Helper()
	var wire map[string]any
	json.Unmarshal(sent.Body, &wire)
	body, _ := wire["text"].(map[string]any)
	if wire["messaging_product"] != "whatsapp" || wire["recipient_type"] != "individual" || wire["to"] != to ||
		wire["type"] != "text" || body["body"] != text {
		e.t.Fatalf("body sent to Meta: %s", sent.Body)
	}
	if auth := sent.Header.Get("Authorization"); auth != "Bearer "+e.number.Token {
		e.t.Fatalf("authorization header %q", auth)
	}
}

// start runs Switchboard with e.env until the test ends, then signs e in as the admin.
func (e *e2e) start() {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return e.env[k] }, strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("server did not stop")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("server did not start: %v", err)
	}
	go io.Copy(io.Discard, pr)
	jar, _ := cookiejar.New(nil)
	e.base, e.http, e.csrf = strings.Fields(strings.TrimPrefix(line, "switchboard listening on "))[0], &http.Client{Jar: jar}, ""
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	e.call("POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": e2ePassword}, http.StatusOK, &me)
	e.csrf = me.CSRFToken
}

// startE2E starts Switchboard (SQLite, or PostgreSQL when databaseURL is set) and a connected channel.
func startE2E(t *testing.T, databaseURL string) *e2e {
	t.Helper()
	fake := graphtest.New(graphtest.Options{StatusDelay: 20 * time.Millisecond})
	fakeSrv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); fakeSrv.Close() })

	env := map[string]string{
		"SWITCHBOARD_ADDR": "127.0.0.1:0", "SWITCHBOARD_DATA_DIR": t.TempDir(), "SWITCHBOARD_SANDBOX": "false",
		"SWITCHBOARD_ADMIN_EMAIL": "admin@example.com", "SWITCHBOARD_ADMIN_PASSWORD": e2ePassword,
		"SWITCHBOARD_GRAPH_API_URL": fakeSrv.URL, "SWITCHBOARD_LOG_LEVEL": "error", "SWITCHBOARD_WORKERS": "4",
		"DATABASE_URL": databaseURL,
	}
	e := &e2e{t: t, fake: fake, env: env}
	e.start()
	var ch struct {
		ID         int64  `json:"id"`
		WebhookURL string `json:"webhook_url"`
	}
	e.number = graphtest.Number{PhoneNumberID: "106540352242922", DisplayPhoneNumber: "15550001234", WABAID: "102290129340398",
		Token: "EAAG-e2e-token", AppSecret: "e2e-app-secret"}
	e.call("POST", "/api/v1/channels", map[string]string{"name": "Support", "phone_number": "+15550001234",
		"phone_number_id": e.number.PhoneNumberID, "business_account_id": e.number.WABAID,
		"api_key": e.number.Token, "app_secret": e.number.AppSecret}, http.StatusCreated, &ch)
	e.chID = ch.ID
	// The public URL is the default localhost:8080; Meta (the fake) reaches the real listener.
	e.number.WebhookURL = e.base + fmt.Sprintf("/webhooks/whatsapp/%d", ch.ID)
	fake.RegisterNumber(e.number)
	return e
}

// call makes an API request as the signed-in admin and decodes the answer into out.
func (e *e2e) call(method, path string, body any, want int, out any) []byte {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if e.csrf != "" {
		req.Header.Set("X-CSRF-Token", e.csrf)
	}
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("decode %s: %v", data, err)
		}
	}
	return data
}

// customerSays delivers a customer's webhook, signed, through the real endpoint.
func (e *e2e) customerSays(body []byte) {
	e.t.Helper()
	res, err := e.fake.Deliver(e.t.Context(), e.number.PhoneNumberID, body)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		e.t.Fatalf("webhook answered %d", res.StatusCode)
	}
}

// conversation waits for the contact's conversation and returns its id.
func (e *e2e) conversation(waID string) int64 {
	e.t.Helper()
	var id int64
	e.eventually("a conversation with "+waID, func() bool {
		var list struct {
			Data []switchboard.Conversation `json:"data"`
		}
		e.call("GET", "/api/v1/conversations?q="+waID, nil, http.StatusOK, &list)
		if len(list.Data) > 0 {
			id = list.Data[0].ID
		}
		return id != 0
	})
	return id
}

func (e *e2e) messages(convID int64) []switchboard.Message {
	e.t.Helper()
	var list struct {
		Data []switchboard.Message `json:"data"`
	}
	e.call("GET", fmt.Sprintf("/api/v1/conversations/%d/messages?limit=200", convID), nil, http.StatusOK, &list)
	return list.Data
}

func (e *e2e) message(convID, id int64) switchboard.Message {
	e.t.Helper()
	for _, m := range e.messages(convID) {
		if m.ID == id {
			return m
		}
	}
	e.t.Fatalf("message %d not in conversation %d", id, convID)
	return switchboard.Message{}
}

// eventually polls cond until it holds, failing after a generous deadline (not a timing assertion:
// the deadline only bounds a hung test).
func (e *e2e) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
