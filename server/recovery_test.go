package server_test

import (
	"bytes"
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
