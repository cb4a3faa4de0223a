package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/whatsapp"
)

// The fixtures in whatsapp/testdata are written for this phone number id and app secret's channel.
const (
	fixturePhoneNumberID = "109876543210987"
	fixtureAppSecret     = "test-app-secret"
)

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

// TestWebhookPayloadTypes posts every inbound fixture, signed, through the real server, and reads
// the resulting messages back through the API.
func TestWebhookPayloadTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		meta := ts.anonymous()

		files, _ := filepath.Glob(filepath.Join("..", "whatsapp", "testdata", "*.json"))
		if len(files) < 30 {
			t.Fatalf("expected the fixture set, found %d files", len(files))
		}
		for _, f := range files {
			meta.postWebhook(path, fixture(t, filepath.Base(f)), fixtureAppSecret).wantStatus(http.StatusOK)
		}
		got := allMessages(t, admin)
		// Each fixture's messages, by type, with what an agent must see.
		for _, f := range files {
			hook, err := whatsapp.ParseWebhook(fixture(t, filepath.Base(f)))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, ch := range hook.Changes {
				if ch.PhoneNumberID != fixturePhoneNumberID {
					continue
				}
				for _, m := range ch.Messages {
					switch m.Type {
					case whatsapp.TypeReaction, whatsapp.TypeRevoke:
						if _, stored := got[m.ID]; stored {
							t.Errorf("%s: a %s must not become a message", filepath.Base(f), m.Type)
						}
						continue
					}
					stored, ok := got[m.ID]
					if !ok {
						t.Errorf("%s: message %s (%s) not stored", filepath.Base(f), m.ID, m.Type)
						continue
					}
					if stored.Direction != switchboard.Inbound || stored.Sender != switchboard.SenderCustomer || stored.Status != switchboard.MsgReceived {
						t.Errorf("%s: %+v", filepath.Base(f), stored)
					}
					if m.Text != "" && m.Type != whatsapp.TypeSystem && stored.Text != m.Text {
						t.Errorf("%s: text %q, want %q", filepath.Base(f), stored.Text, m.Text)
					}
					if stored.Text == "" && stored.Media == nil {
						t.Errorf("%s: %s message shows nothing to the agent", filepath.Base(f), m.Type)
					}
					if m.Media != nil && (stored.Media == nil || stored.Media.MimeType != m.Media.MimeType || stored.Media.Voice != m.Media.Voice) {
						t.Errorf("%s: media %+v, want %+v", filepath.Base(f), stored.Media, m.Media)
					}
					if m.Context != nil && m.Context.ID != "" && stored.ReplyTo != m.Context.ID {
						t.Errorf("%s: reply_to %q, want %q", filepath.Base(f), stored.ReplyTo, m.Context.ID)
					}
					if len(m.Errors) > 0 && (stored.Error == nil || stored.Error.Code != m.Errors[0].Code) {
						t.Errorf("%s: error %+v, want code %d", filepath.Base(f), stored.Error, m.Errors[0].Code)
					}
				}
			}
		}
		// The fixtures of the other phone number in multi_entry.json belong to no channel here: refused.
		var convs conversationList
		admin.do("GET", "/api/v1/conversations?limit=100", nil).decode(&convs)
		for _, c := range convs.Data {
			if c.ChannelID != convs.Data[0].ChannelID {
				t.Fatal("a change for another phone number was stored on this channel")
			}
		}
	})
}

func TestWebhookSecurityAndLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts := newTestServer(t, st)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		admin := ts.login("ada@example.com")
		ch, path := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
		meta := ts.anonymous()
		body := fixture(t, "text.json")

		// The handshake.
		q := "?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="
		if res := meta.do("GET", path+q+ch.VerifyToken, nil).wantStatus(http.StatusOK); string(res.Body) != "1158201444" {
			t.Fatalf("challenge echoed as %q", res.Body)
		}
		meta.do("GET", path+q+"wrong-token", nil).wantStatus(http.StatusForbidden)
		meta.do("GET", "/webhooks/whatsapp/999999"+q+ch.VerifyToken, nil).wantStatus(http.StatusNotFound)

		// Wrong, missing or foreign signatures: 401 and nothing stored.
		meta.postWebhook(path, body, "not-the-secret").wantStatus(http.StatusUnauthorized)
		meta.postWebhook(path, body, "").wantStatus(http.StatusUnauthorized)
		tampered := append(bytes.Clone(body), ' ')
		meta.doWith("POST", path, tampered, map[string]string{whatsapp.SignatureHeader: whatsapp.Sign(body, fixtureAppSecret)}).wantStatus(http.StatusUnauthorized)
		if got := allMessages(t, admin); len(got) != 0 {
			t.Fatalf("refused webhooks stored %d messages", len(got))
		}

		// An oversized body: 413 and nothing stored.
		huge := append([]byte(`{"object":"whatsapp_business_account","entry":[],"pad":"`), bytes.Repeat([]byte("x"), 5<<20)...)
		huge = append(huge, []byte(`"}`)...)
		if res := meta.postWebhook(path, huge, fixtureAppSecret); res.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized webhook: %d %s", res.Status, res.Body)
		}

		// A signed body that is not JSON is kept as a dead letter and acknowledged.
		meta.postWebhook(path, []byte("{not json"), fixtureAppSecret).wantStatus(http.StatusOK)
		var letters struct {
			Data []switchboard.DeadLetter `json:"data"`
		}
		admin.do("GET", "/api/v1/dead-letters", nil).wantStatus(http.StatusOK).decode(&letters)
		if len(letters.Data) != 1 || letters.Data[0].Body != "{not json" {
			t.Fatalf("dead letters: %+v", letters.Data)
		}
		// Replaying it fails the same way (422) and keeps it; an unknown id is 404.
		admin.do("POST", fmt.Sprintf("/api/v1/dead-letters/%d/retry", letters.Data[0].ID), nil).wantStatus(http.StatusUnprocessableEntity)
		admin.do("POST", "/api/v1/dead-letters/999999/retry", nil).wantStatus(http.StatusNotFound)

		// The same webhook delivered three times concurrently is stored once.
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if res := meta.postWebhook(path, body, fixtureAppSecret); res.Status != http.StatusOK {
					t.Errorf("concurrent delivery: %d %s", res.Status, res.Body)
				}
			}()
		}
		wg.Wait()
		if got := allMessages(t, admin); len(got) != 1 {
			t.Fatalf("three deliveries stored %d messages", len(got))
		}
		// A body an older parser could not read is stored when replayed, and the dead letter is gone.
		ch, _ = st.ChannelByPhoneNumberID(t.Context(), fixturePhoneNumberID)
		if err := st.RecordDeadLetter(t.Context(), ch.ID, fixture(t, "voice.json"), "unknown type (old version)"); err != nil {
			t.Fatal(err)
		}
		admin.do("GET", "/api/v1/dead-letters", nil).decode(&letters)
		admin.do("POST", fmt.Sprintf("/api/v1/dead-letters/%d/retry", letters.Data[0].ID), nil).wantStatus(http.StatusAccepted)
		admin.do("GET", "/api/v1/dead-letters", nil).decode(&letters)
		if len(letters.Data) != 1 {
			t.Fatalf("the replayed dead letter is removed, the other kept: %d left", len(letters.Data))
		}
		if got := allMessages(t, admin); len(got) != 2 {
			t.Fatalf("the replayed webhook's message was not stored: %d messages", len(got))
		}
	})
}

// TestWebhookWithNULCharacters: a JSON string may carry "\u0000", which PostgreSQL's text cannot hold;
// such a webhook is stored (without the NUL) instead of failing on each of Meta's retries.
func TestWebhookWithNULCharacters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		body := bytes.Replace(fixture(t, "text.json"), []byte(`"Hallo, is my order`), []byte(`"Hallo,\u0000 is my order`), 1)
		body = bytes.Replace(body, []byte(`"Lena Vogel"`), []byte(`"Lena\u0000 Vogel"`), 1)
		ts.anonymous().postWebhook(path, body, fixtureAppSecret).wantStatus(http.StatusOK)
		got := allMessages(t, admin)
		if len(got) != 1 {
			t.Fatalf("%d messages stored", len(got))
		}
		for _, m := range got {
			if m.Text != "Hallo, is my order on its way?" {
				t.Fatalf("text %q", m.Text)
			}
		}
		convs, _, err := st.ListConversations(t.Context(), store.ConversationFilter{})
		if err != nil || len(convs) != 1 || convs[0].Contact.Name != "Lena Vogel" {
			t.Fatalf("conversations %+v %v", convs, err)
		}
	})
}

// TestWebhookStatusesInAnyOrder posts the status fixtures in reverse order: the message ends at the
// highest status.
func TestWebhookBatchAndStatuses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		meta := ts.anonymous()

		meta.postWebhook(path, fixture(t, "batch_two_contacts.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		var convs conversationList
		admin.do("GET", "/api/v1/conversations", nil).decode(&convs)
		if len(convs.Data) != 2 || convs.Data[0].Contact == nil || convs.Data[0].WindowExpiresAt == nil {
			t.Fatalf("a batch with two contacts makes two conversations: %+v", convs.Data)
		}

		// An outbound message whose statuses arrive in every order.
		var sent struct {
			Entry []struct {
				Changes []struct {
					Value struct {
						Statuses []struct {
							ID string `json:"id"`
						} `json:"statuses"`
					} `json:"value"`
				} `json:"changes"`
			} `json:"entry"`
		}
		json.Unmarshal(fixture(t, "status_read.json"), &sent)
		wamid := sent.Entry[0].Changes[0].Value.Statuses[0].ID
		queued, _, err := st.QueueOutbound(t.Context(), &switchboard.Message{ConversationID: convs.Data[0].ID,
			Sender: switchboard.SenderAgent, Type: switchboard.TypeText, Text: "On it!"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.MarkSent(t.Context(), queued.ID, wamid, queued.CreatedAt); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"status_read.json", "status_delivered.json", "status_sent.json"} {
			b := fixture(t, f)
			b = bytes.ReplaceAll(b, []byte(statusID(t, b)), []byte(wamid))
			meta.postWebhook(path, b, fixtureAppSecret).wantStatus(http.StatusOK)
		}
		var msgs messageList
		admin.do("GET", fmt.Sprintf("/api/v1/conversations/%d/messages", convs.Data[0].ID), nil).decode(&msgs)
		var out *switchboard.Message
		for i := range msgs.Data {
			if msgs.Data[i].ExternalID == wamid {
				out = &msgs.Data[i]
			}
		}
		if out == nil || out.Status != switchboard.MsgRead || out.SentAt == nil || out.DeliveredAt == nil {
			t.Fatalf("statuses in any order end at the highest: %+v", out)
		}
	})
}

func statusID(t *testing.T, body []byte) string {
	t.Helper()
	i := bytes.Index(body, []byte(`"statuses"`))
	j := bytes.Index(body[i:], []byte(`"id"`))
	rest := body[i+j+4:]
	start := bytes.IndexByte(rest, '"')
	end := bytes.IndexByte(rest[start+1:], '"')
	id := string(rest[start+1 : start+1+end])
	if !strings.HasPrefix(id, "wamid.") {
		t.Fatalf("no status id in fixture: %q", id)
	}
	return id
}

// TestTemplateStatusWebhook: Meta's template status update changes the cached template, so agents stop
// seeing it as sendable.
func TestTemplateStatusWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts := newTestServer(t, st)
		ch, path := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
		if err := st.ReplaceTemplates(t.Context(), ch.ID, []switchboard.Template{{ExternalID: "1234567890123456", Name: "order_shipped",
			Language: "en_US", Category: "UTILITY", Status: "APPROVED", Components: []byte(`[{"type":"BODY","text":"Shipped!"}]`)}}); err != nil {
			t.Fatal(err)
		}
		ts.anonymous().postWebhook(path, fixture(t, "template_status_update.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		tpl, err := st.Template(t.Context(), ch.ID, "order_shipped", "en_US")
		if err != nil || tpl.Status != "REJECTED" || tpl.Usable() {
			t.Fatalf("template after the status webhook: %+v %v", tpl, err)
		}
	})
}
