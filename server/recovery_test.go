package server_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"switchboard"
	"switchboard/config"
	"switchboard/server"
	"switchboard/store"
	"switchboard/store/storetest"
)

// panickyStore panics where sign-in looks the agent up.
type panickyStore struct{ *store.Store }

func (panickyStore) AgentByEmail(context.Context, string) (*switchboard.Agent, error) {
	panic("boom: the store fell over")
}

// TestPanicBecomesA500: a handler that panics answers the one error shape with code internal and the
// request id (no stack, no panic text), the panic is logged with that id, and the server keeps serving.
func TestPanicBecomesA500(t *testing.T) {
	var logs bytes.Buffer
	st := storetest.SQLite(t, storetest.Options{})
	srv := server.New(server.Options{Config: &config.Config{PublicURL: "http://localhost:8080"}, Store: panickyStore{st},
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Web: http.NotFoundHandler()})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	for range 2 {
		res, err := http.Post(hs.URL+"/api/v1/auth/login", "application/json", strings.NewReader(`{"email":"a@example.com","password":"whatever-it-is"}`))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		id := res.Header.Get("X-Request-Id")
		if res.StatusCode != http.StatusInternalServerError || body.Error.Code != switchboard.EINTERNAL || id == "" ||
			!strings.Contains(body.Error.Message, id) || strings.Contains(body.Error.Message, "boom") {
			t.Fatalf("panic answered %d %+v (request id %q)", res.StatusCode, body, id)
		}
		if !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), "boom") {
			t.Fatalf("the panic was not logged with request id %s:\n%s", id, logs.String())
		}
	}
	if res, err := http.Get(hs.URL + "/healthz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the server stopped serving after a panic: %v %v", err, res)
	}
}

// TestRequestIDs: every answer carries a request id; a caller's plain id (a proxy's) is kept, anything
// else is replaced by the server's own.
func TestRequestIDs(t *testing.T) {
	srv := server.New(server.Options{Config: &config.Config{PublicURL: "http://localhost:8080"},
		Store: storetest.SQLite(t, storetest.Options{}), Web: http.NotFoundHandler()})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	for _, tc := range []struct{ sent, want string }{
		{"", ""},
		{"edge-7f3a.42_x", "edge-7f3a.42_x"},
		{"with space", ""},
		{`evil","level":"ERROR`, ""},
		{strings.Repeat("a", 65), ""},
	} {
		req, _ := http.NewRequest("GET", hs.URL+"/healthz", nil)
		if tc.sent != "" {
			req.Header.Set("X-Request-Id", tc.sent)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		got := res.Header.Get("X-Request-Id")
		if got == "" || (tc.want != "" && got != tc.want) || (tc.want == "" && got == tc.sent) {
			t.Errorf("sent %q: request id %q, want %q", tc.sent, got, cmp.Or(tc.want, "a new one"))
		}
	}
}
