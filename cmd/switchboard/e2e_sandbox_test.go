package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"switchboard"
)

// TestSandbox: with the sandbox on (the embedded default), a sandbox channel is created in one call,
// a customer writes through the real signed webhook endpoint, an agent's reply takes the real send
// path to the built-in fake, and the customer's phone shows it read. Then the sandbox survives a
// restart: the channel still sends.
func TestSandbox(t *testing.T) {
	dir := t.TempDir()
	start := func() (*e2e, func()) {
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		env := map[string]string{"SWITCHBOARD_ADDR": "127.0.0.1:0", "SWITCHBOARD_DATA_DIR": dir,
			"SWITCHBOARD_ADMIN_EMAIL": "admin@example.com", "SWITCHBOARD_ADMIN_PASSWORD": e2ePassword, "SWITCHBOARD_LOG_LEVEL": "error"}
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, nil, func(k string) string { return env[k] }, strings.NewReader(""), pw, io.Discard)
			pw.Close()
		}()
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err != nil {
			t.Fatalf("server did not start: %v", err)
		}
		go io.Copy(io.Discard, pr)
		jar, _ := cookiejar.New(nil)
		e := &e2e{t: t, base: strings.Fields(strings.TrimPrefix(line, "switchboard listening on "))[0], http: &http.Client{Jar: jar}}
		var me struct {
			CSRFToken string `json:"csrf_token"`
		}
		e.call("POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": e2ePassword}, http.StatusOK, &me)
		e.csrf = me.CSRFToken
		return e, func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("server did not stop")
			}
		}
	}
	e, stop := start()
	var ch struct {
		ID      int64 `json:"id"`
		Sandbox bool  `json:"sandbox"`
	}
	e.call("POST", "/api/v1/sandbox/channels", map[string]string{"name": "Try it"}, http.StatusCreated, &ch)
	if !ch.Sandbox {
		t.Fatal("not a sandbox channel")
	}
	var templates struct {
		Data []switchboard.Template `json:"data"`
	}
	e.call("GET", fmt.Sprintf("/api/v1/templates?channel_id=%d", ch.ID), nil, http.StatusOK, &templates)
	if len(templates.Data) < 3 {
		t.Fatalf("sandbox templates not synced: %d", len(templates.Data))
	}
	phone := fmt.Sprintf("/api/v1/sandbox/channels/%d/messages", ch.ID)
	e.call("POST", phone, map[string]string{"wa_id": "15551234567", "name": "Casey", "text": "Hi, is my order on its way?"}, http.StatusAccepted, nil)
	e.call("POST", phone, map[string]string{"wa_id": "15551234567", "name": "Casey", "type": "unknown"}, http.StatusUnprocessableEntity, nil)
	conv := e.conversation("15551234567")

	var reply switchboard.Message
	e.call("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), map[string]string{"text": "Yes, it ships today!"}, http.StatusAccepted, &reply)
	e.eventually("the customer to read the reply", func() bool {
		var transcript struct {
			Data []switchboard.Message `json:"data"`
		}
		e.call("GET", phone+"?wa_id=15551234567", nil, http.StatusOK, &transcript)
		for _, m := range transcript.Data {
			if m.ID == reply.ID {
				return m.Status == switchboard.MsgRead
			}
		}
		return false
	})
	stop()

	// After a restart the fake knows the channel again.
	e, stop = start()
	defer stop()
	var again switchboard.Message
	e.call("POST", fmt.Sprintf("/api/v1/conversations/%d/messages", conv), map[string]string{"text": "Still here after a restart."}, http.StatusAccepted, &again)
	e.eventually("the reply after restart to be delivered", func() bool {
		m := e.message(conv, again.ID)
		return m.Status == switchboard.MsgDelivered || m.Status == switchboard.MsgRead
	})
}
