package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/config"
	"switchboard/pipeline"
	"switchboard/server"
	"switchboard/store"
	"switchboard/whatsapp"
)

// The fixtures in whatsapp/testdata are written for this phone number id and app secret's channel.
const (
	fixturePhoneNumberID = "109876543210987"
	fixtureAppSecret     = "test-app-secret"
)

// What the fixtures name (whatsapp/messages_test.go spells out each fixture).
const (
	// fixtureOurID is our outbound message that the status, reaction and reply fixtures point at.
	fixtureOurID = "wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjRCNkY1QTk4QzEyMzRENTZFNwA="
	// fixtureTextID is text.json's message, the one revoke.json deletes.
	fixtureTextID = "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFjQzFBMkIzQzRENUU2RjdBOEI5QzA="
	// fixtureCustomer (Lena) sends most fixtures; the number change fixtures move her to fixtureNewNumber.
	fixtureCustomer  = "4915112345678"
	fixtureNewNumber = "4915187654321"
	// fixtureBSUID is the customer of bsuid_contact.json, known only by a business-scoped id.
	fixtureBSUID = "DE.1349120865530274"
	// multi_entry.json's first entry is for the fixtures' phone number; its second, for another
	// number, carries a message from another customer.
	fixtureEntryOneWamid      = "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFjRTNGNEE1QjZDN0Q4RTlGMEExQjJD"
	fixtureOtherPhoneNumberID = "119876543210987"
	fixtureOtherCustomer      = "34612345678"
	fixtureOtherWamid         = "wamid.HBgLMzQ2MTIzNDU2NzgVAgASGBYzRUIwNUY2QTdCOEM5RDBFMUYyQTMA"
)

// fixtureTime is the timestamp of the fixtures' messages and statuses.
var fixtureTime = time.Unix(1767225600, 0).UTC()

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "whatsapp", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// webhookChannel creates the channel the fixtures are addressed to and returns its webhook path.
func (ts *testServer) webhookChannel(phoneNumberID, appSecret string) (*switchboard.Channel, string) {
	ts.t.Helper()
	ch := &switchboard.Channel{Type: switchboard.ChannelTypeWhatsApp, Name: "Support " + phoneNumberID, PhoneNumber: "+15550001234",
		PhoneNumberID: phoneNumberID, BusinessAccountID: "102290129340398", APIKey: "EAAG-token", AppSecret: appSecret,
		VerifyToken: "verify-token-0123456789", AssignmentMode: switchboard.AssignByLoad, DefaultCapacity: 10,
		Settings: switchboard.DefaultChannelSettings()}
	if err := ts.Store.CreateChannel(ts.t.Context(), ch); err != nil {
		ts.t.Fatal(err)
	}
	return ch, "/webhooks/whatsapp/" + strconv.FormatInt(ch.ID, 10)
}

// fixtureInbox starts a server with an admin signed in and the channel the fixtures are addressed to;
// it returns the admin's client and the channel's webhook path.
func fixtureInbox(t *testing.T, st *store.Store) (*testServer, *client, string) {
	t.Helper()
	ts := newTestServer(t, st)
	ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
	admin := ts.login("ada@example.com")
	_, path := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
	return ts, admin, path
}

func (c *client) postWebhook(path string, body []byte, secret string) *response {
	c.ts.t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if secret != "" {
		h[whatsapp.SignatureHeader] = whatsapp.Sign(body, secret)
	}
	return c.doWith("POST", path, body, h)
}

type conversationList struct {
	Data []switchboard.Conversation `json:"data"`
}

type messageList struct {
	Data []switchboard.Message `json:"data"`
}

// allMessages reads every conversation and its messages back through the API.
func allMessages(t *testing.T, admin *client) map[string]switchboard.Message {
	t.Helper()
	var convs conversationList
	admin.do("GET", "/api/v1/conversations?limit=100", nil).wantStatus(http.StatusOK).decode(&convs)
	out := map[string]switchboard.Message{}
	for _, c := range convs.Data {
		var msgs messageList
		admin.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages?limit=200", c.ID), nil).wantStatus(http.StatusOK).decode(&msgs)
		for _, m := range msgs.Data {
			out[m.ExternalID] = m
		}
	}
	return out
}

// channelIDOf returns the channel id of a webhook path.
func channelIDOf(t *testing.T, path string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(path, "/webhooks/whatsapp/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// conversationsOf lists conversations through the API; query filters them (e.g. "channel_id=3").
func conversationsOf(t *testing.T, c *client, query string) []switchboard.Conversation {
	t.Helper()
	var convs conversationList
	c.do("GET", "/api/v1/conversations?limit=100&"+query, nil).wantStatus(http.StatusOK).decode(&convs)
	return convs.Data
}

// messagesOf lists a conversation's messages through the API, oldest first.
func messagesOf(t *testing.T, c *client, conversationID int64) []switchboard.Message {
	t.Helper()
	var msgs messageList
	c.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages?limit=200", conversationID), nil).wantStatus(http.StatusOK).decode(&msgs)
	return msgs.Data
}

// messageOf reads one message of a conversation through the API.
func messageOf(t *testing.T, c *client, conversationID, id int64) switchboard.Message {
	t.Helper()
	for _, m := range messagesOf(t, c, conversationID) {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %d is not in conversation %d", id, conversationID)
	return switchboard.Message{}
}

// revoked reports whether the customer deleted the message (revoke.json).
func revoked(t *testing.T, m switchboard.Message) bool {
	t.Helper()
	var p struct {
		Revoked bool `json:"revoked"`
	}
	if len(m.Payload) > 0 {
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatalf("payload %s: %v", m.Payload, err)
		}
	}
	return p.Revoked
}

// eventList is a page of GET /api/v1/channels/:id/events.
type eventList struct {
	Data       []store.ChannelEventRecord `json:"data"`
	NextCursor string                     `json:"next_cursor"`
}

// channelEvents reads a channel's events through the API, newest first.
func channelEvents(t *testing.T, admin *client, channelID int64) []store.ChannelEventRecord {
	t.Helper()
	var events eventList
	admin.do("GET", fmt.Sprintf("/api/v1/channels/%d/events?limit=200", channelID), nil).wantStatus(http.StatusOK).decode(&events)
	return events.Data
}

// ourMessage stores an outbound message in the conversation and marks it sent with wamid, as the send
// path does when the Graph API accepts it: the status and reaction fixtures name it.
func ourMessage(t *testing.T, st *store.Store, conversationID int64, wamid string) *switchboard.Message {
	t.Helper()
	queued, _, err := st.QueueOutbound(t.Context(), &switchboard.Message{ConversationID: conversationID,
		Sender: switchboard.SenderAgent, Type: switchboard.TypeText, Text: "Your parcel left our warehouse."})
	if err != nil {
		t.Fatal(err)
	}
	sent, _, err := st.MarkSent(t.Context(), queued.ID, wamid, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sent
}

// replaced returns body with each old string of pairs (old, new, old, new...) replaced.
func replaced(body []byte, pairs ...string) []byte {
	for i := 0; i+1 < len(pairs); i += 2 {
		body = bytes.ReplaceAll(body, []byte(pairs[i]), []byte(pairs[i+1]))
	}
	return body
}

// onlyEntry returns the webhook body with only its i-th entry.
func onlyEntry(t *testing.T, body []byte, i int) []byte {
	t.Helper()
	var env map[string]json.RawMessage
	var entries []json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(env["entry"], &entries); err != nil || i >= len(entries) {
		t.Fatalf("entry %d of %d: %v", i, len(entries), err)
	}
	env["entry"], _ = json.Marshal(entries[i : i+1])
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// logBuffer keeps a server's JSON log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// warned reports whether a warning was logged with attribute attr set to value.
func (l *logBuffer) warned(attr, value string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range bytes.Split(l.b.Bytes(), []byte("\n")) {
		var rec map[string]any
		if json.Unmarshal(line, &rec) == nil && rec["level"] == "WARN" && rec[attr] == value {
			return true
		}
	}
	return false
}

// newLoggedTestServer is newTestServer with the server's logs, its webhook ingestion's among them, kept.
func newLoggedTestServer(t *testing.T, st *store.Store) (*testServer, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	clock := switchboard.SystemClock{}
	ts := &testServer{t: t, Store: st, clock: clock}
	cfg := &config.Config{PublicURL: "http://localhost:8080", SessionTTL: 30 * 24 * time.Hour}
	srv := server.New(server.Options{Config: cfg, Store: st, Clock: clock, Logger: log, Web: http.NotFoundHandler(),
		Inbound:   pipeline.NewInbound(pipeline.InboundOptions{Store: st, Logger: log}),
		Outbound:  pipeline.NewOutbound(pipeline.OutboundOptions{Store: st, Clock: clock}),
		Media:     pipeline.NewMedia(pipeline.MediaOptions{Store: st, Dir: t.TempDir()}),
		Workspace: pipeline.NewWorkspace(pipeline.WorkspaceOptions{Store: st}),
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ts.URL = hs.URL
	return ts, logs
}
