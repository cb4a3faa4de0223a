package server_test

import (
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/whatsapp"
)

// TestWebhookPayloadTypes posts every fixture of whatsapp/testdata, signed, through the real server
// and reads back through the API what each became: every customer message stored as itself; the
// reactions, the deletion and the statuses applied to the messages they name; the template status on
// the cached template; quality, account and out-of-band error news kept as channel events; and the
// right number of conversations and contacts. The messages the others name come first (text.json and
// our message fixtureOurID), the number changes last, since they move the customer most fixtures
// come from. The siblings below check each kind step by step.
func TestWebhookPayloadTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		meta := ts.anonymous()
		chID := channelIDOf(t, path)
		if err := st.ReplaceTemplates(t.Context(), chID, []switchboard.Template{{ExternalID: "1234567890123456", Name: "order_shipped",
			Language: "en_US", Category: "UTILITY", Status: "APPROVED", Components: []byte(`[{"type":"BODY","text":"Shipped!"}]`)}}); err != nil {
			t.Fatal(err)
		}

		files, _ := filepath.Glob(filepath.Join("..", "whatsapp", "testdata", "*.json"))
		if len(files) < 40 {
			t.Fatalf("expected the fixture set, found %d files", len(files))
		}
		last := []string{"system_user_changed_number.json", "system_customer_changed_number.json"}
		meta.postWebhook(path, fixture(t, "text.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		lena := conversationsOf(t, admin, "")[0]
		ours := ourMessage(t, st, lena.ID, fixtureOurID)
		for _, f := range files {
			if name := filepath.Base(f); !slices.Contains(last, name) {
				meta.postWebhook(path, fixture(t, name), fixtureAppSecret).wantStatus(http.StatusOK)
			}
		}
		for _, name := range last {
			meta.postWebhook(path, fixture(t, name), fixtureAppSecret).wantStatus(http.StatusOK)
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

		// Our message: the statuses (in file order, failed among them) end at failed with Meta's code;
		// the reactions (set, then removed twice) leave none. The deleted customer message is marked.
		if target := got[fixtureOurID]; target.ID != ours.ID || target.Status != switchboard.MsgFailed || target.Error == nil ||
			target.Error.Code != 131047 || len(target.Reactions) != 0 {
			t.Errorf("our message after every fixture: %+v", target)
		}
		if text := got[fixtureTextID]; !revoked(t, text) || text.Text != "Hallo, is my order on its way?" {
			t.Errorf("the deleted message: revoked %v, text %q", revoked(t, text), text.Text)
		}

		// Conversations and contacts: Lena (moved to her new number, every message of hers in one
		// conversation), João from the batch, the customer known only by a business-scoped id, and
		// Lena's old number once more — the old spelling of the number change arrives after the new
		// one moved her, so the old number is a new contact whose conversation notes that both are
		// kept. multi_entry.json's other phone number belongs to no channel here: Ana is nowhere.
		convs := conversationsOf(t, admin, "")
		contacts := map[string]*switchboard.Contact{}
		for _, c := range convs {
			if c.ChannelID != chID || c.Contact == nil {
				t.Fatalf("conversation %+v", c)
			}
			contacts[c.Contact.WaID+"|"+c.Contact.BSUID] = c.Contact
		}
		if len(convs) != 4 || len(contacts) != 4 {
			t.Fatalf("%d conversations, %d contacts, want 4 and 4: %v", len(convs), len(contacts), slices.Collect(maps.Keys(contacts)))
		}
		moved, old := contacts[fixtureNewNumber+"|"], contacts[fixtureCustomer+"|"]
		if moved == nil || moved.ID != lena.Contact.ID || moved.Name != "Lena Vogel" || old == nil || old.ID == lena.Contact.ID ||
			contacts["5511987654321|"] == nil || contacts["|"+fixtureBSUID] == nil {
			t.Fatalf("contacts %v", slices.Collect(maps.Keys(contacts)))
		}
		if _, stored := got[fixtureOtherWamid]; stored {
			t.Fatal("a change for a phone number of no channel was stored")
		}

		// The template status update shows in the template list.
		var tpls struct {
			Data []switchboard.Template `json:"data"`
		}
		admin.do("GET", fmt.Sprintf("/api/v1/templates?channel_id=%d", chID), nil).wantStatus(http.StatusOK).decode(&tpls)
		if len(tpls.Data) != 1 || tpls.Data[0].Status != "REJECTED" || tpls.Data[0].RejectedReason != "INVALID_FORMAT" {
			t.Fatalf("templates after the status webhook: %+v", tpls.Data)
		}

		// The news about the channel itself: one event each, newest first.
		var fields []string
		for _, e := range channelEvents(t, admin, chID) {
			fields = append(fields, e.Field)
		}
		slices.Sort(fields)
		if want := []string{"account_update", "errors", "message_template_status_update", "phone_number_quality_update"}; !slices.Equal(fields, want) {
			t.Fatalf("channel events %v, want %v", fields, want)
		}
	})
}

// TestWebhookStatusFixtures posts each status fixture for our message fixtureOurID and reads the
// message back through the API after each: a status for a message whose send has not returned yet
// waits and applies when it gets its wamid; statuses with and without Meta's conversation and pricing
// blocks apply alike, at the time Meta gives; a status never moves the message backwards; failed
// keeps Meta's code, title and details and is final.
func TestWebhookStatusFixtures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		meta := ts.anonymous()
		meta.postWebhook(path, fixture(t, "text.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		conv := conversationsOf(t, admin, "")[0]
		queued, _, err := st.QueueOutbound(t.Context(), &switchboard.Message{ConversationID: conv.ID,
			Sender: switchboard.SenderAgent, Type: switchboard.TypeText, Text: "Your parcel left our warehouse."})
		if err != nil {
			t.Fatal(err)
		}

		// Delivered before the send call returned the wamid: kept aside, the message is still queued.
		meta.postWebhook(path, fixture(t, "status_delivered.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		if m := messageOf(t, admin, conv.ID, queued.ID); m.Status != switchboard.MsgQueued || m.DeliveredAt != nil {
			t.Fatalf("a status for an unknown wamid changed a message: %+v", m)
		}
		sentAt := time.Now().UTC().Truncate(time.Second)
		if _, _, err := st.MarkSent(t.Context(), queued.ID, fixtureOurID, sentAt); err != nil {
			t.Fatal(err)
		}
		if m := messageOf(t, admin, conv.ID, queued.ID); m.Status != switchboard.MsgDelivered || m.DeliveredAt == nil ||
			!m.DeliveredAt.Equal(fixtureTime) || m.SentAt == nil || !m.SentAt.Equal(sentAt) {
			t.Fatalf("the waiting delivered status was not applied with the wamid: %+v", m)
		}

		failure := &switchboard.MessageError{Code: 131047, Title: "Re-engagement message",
			Details: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}
		steps := []struct {
			fixture string
			status  string
			err     *switchboard.MessageError
		}{
			{"status_sent.json", switchboard.MsgDelivered, nil},                // a late sent, with conversation and pricing: no step back
			{"status_v24_no_conversation.json", switchboard.MsgDelivered, nil}, // v24+: pricing only
			{"status_read.json", switchboard.MsgRead, nil},
			{"status_played.json", switchboard.MsgPlayed, nil},
			{"status_failed.json", switchboard.MsgFailed, failure},
			{"status_delivered.json", switchboard.MsgFailed, failure}, // failed is final
			{"status_sent.json", switchboard.MsgFailed, failure},
		}
		for _, step := range steps {
			meta.postWebhook(path, fixture(t, step.fixture), fixtureAppSecret).wantStatus(http.StatusOK)
			m := messageOf(t, admin, conv.ID, queued.ID)
			if m.Status != step.status || !reflect.DeepEqual(m.Error, step.err) {
				t.Fatalf("after %s: status %q error %+v, want %q %+v", step.fixture, m.Status, m.Error, step.status, step.err)
			}
			if m.ExternalID != fixtureOurID || !m.SentAt.Equal(sentAt) || !m.DeliveredAt.Equal(fixtureTime) {
				t.Fatalf("after %s: %+v", step.fixture, m)
			}
			if step.status == switchboard.MsgRead && (m.ReadAt == nil || !m.ReadAt.Equal(fixtureTime)) {
				t.Fatalf("read at %v, want the status's own time %v", m.ReadAt, fixtureTime)
			}
			if step.status == switchboard.MsgFailed && (m.FailedAt == nil || !m.FailedAt.Equal(fixtureTime)) {
				t.Fatalf("failed at %v, want %v", m.FailedAt, fixtureTime)
			}
		}
		// Statuses are news about a message, never messages or conversations of their own.
		if convs := conversationsOf(t, admin, ""); len(convs) != 1 || len(messagesOf(t, admin, conv.ID)) != 2 {
			t.Fatalf("statuses made messages or conversations: %d conversations", len(convs))
		}
	})
}

// TestWebhookReactionsAndRevoke: a reaction attaches to the message it names (our fixtureOurID) and a
// removal — without emoji, or with "" as older payloads do — clears it, none of them becoming a
// message. A deletion marks the customer's message as revoked and keeps its text for the agents;
// a deletion of a message not stored (yet) is dropped, not kept for later.
func TestWebhookReactionsAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		meta := ts.anonymous()

		meta.postWebhook(path, fixture(t, "revoke.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		if convs := conversationsOf(t, admin, ""); len(convs) != 0 {
			t.Fatalf("the deletion of an unknown message started a conversation: %+v", convs)
		}
		meta.postWebhook(path, fixture(t, "text.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		conv := conversationsOf(t, admin, "")[0]
		text := messagesOf(t, admin, conv.ID)[0]
		if text.ExternalID != fixtureTextID || revoked(t, text) {
			t.Fatalf("a deletion that came before its message was applied later: %+v", text)
		}
		meta.postWebhook(path, fixture(t, "revoke.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		if text = messageOf(t, admin, conv.ID, text.ID); !revoked(t, text) || text.Text != "Hallo, is my order on its way?" {
			t.Fatalf("the deleted message: %+v (payload %s)", text, text.Payload)
		}

		ours := ourMessage(t, st, conv.ID, fixtureOurID)
		for _, step := range []struct{ fixture, emoji string }{
			{"reaction.json", "👍"}, {"reaction_removed.json", ""}, {"reaction.json", "👍"}, {"reaction_removed_empty.json", ""},
		} {
			meta.postWebhook(path, fixture(t, step.fixture), fixtureAppSecret).wantStatus(http.StatusOK)
			m := messageOf(t, admin, conv.ID, ours.ID)
			set := len(m.Reactions) == 1 && m.Reactions[0].Emoji == step.emoji && m.Reactions[0].Sender == switchboard.SenderCustomer &&
				m.Reactions[0].At.Equal(fixtureTime)
			if step.emoji == "" && len(m.Reactions) != 0 || step.emoji != "" && !set {
				t.Fatalf("after %s: reactions %+v, want %q", step.fixture, m.Reactions, step.emoji)
			}
		}
		if msgs := messagesOf(t, admin, conv.ID); len(msgs) != 2 || len(conversationsOf(t, admin, "")) != 1 {
			t.Fatalf("reactions or deletions became messages: %+v", msgs)
		}
	})
}

// TestWebhookNumberChange: a number change, in each of Meta's spellings, moves the contact to the new
// number instead of leaving the customer behind: the conversation notes the change, and the next
// message from the new number joins the same conversation and contact. A security code change is
// only noted.
func TestWebhookNumberChange(t *testing.T) {
	for _, name := range []string{"system_user_changed_number.json", "system_customer_changed_number.json"} {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				ts, admin, path := fixtureInbox(t, st)
				meta := ts.anonymous()
				meta.postWebhook(path, fixture(t, "text.json"), fixtureAppSecret).wantStatus(http.StatusOK)
				before := conversationsOf(t, admin, "")[0]
				if before.Contact.WaID != fixtureCustomer || before.Contact.Phone != "+"+fixtureCustomer {
					t.Fatalf("contact before: %+v", before.Contact)
				}
				meta.postWebhook(path, fixture(t, "system_customer_identity_changed.json"), fixtureAppSecret).wantStatus(http.StatusOK)
				meta.postWebhook(path, fixture(t, name), fixtureAppSecret).wantStatus(http.StatusOK)
				later := replaced(fixture(t, "text.json"), fixtureCustomer, fixtureNewNumber, fixtureTextID, "wamid.from-the-new-number")
				meta.postWebhook(path, later, fixtureAppSecret).wantStatus(http.StatusOK)

				convs := conversationsOf(t, admin, "")
				if len(convs) != 1 || convs[0].ID != before.ID {
					t.Fatalf("%d conversations after the number change", len(convs))
				}
				if c := convs[0].Contact; c.ID != before.Contact.ID || c.WaID != fixtureNewNumber || c.Phone != "+"+fixtureNewNumber || c.Name != "Lena Vogel" {
					t.Fatalf("contact after the number change: %+v", c)
				}
				msgs := messagesOf(t, admin, before.ID)
				if len(msgs) != 4 {
					t.Fatalf("%d messages: %+v", len(msgs), msgs)
				}
				if m := msgs[1]; m.Type != switchboard.TypeActivity || !strings.Contains(m.Text, "security code changed") {
					t.Errorf("identity change: %+v", m)
				}
				if m := msgs[2]; m.Type != switchboard.TypeActivity || !strings.Contains(m.Text, "+"+fixtureCustomer) || !strings.Contains(m.Text, "+"+fixtureNewNumber) {
					t.Errorf("number change note: %+v", m)
				}
				if m := msgs[3]; m.ExternalID != "wamid.from-the-new-number" {
					t.Errorf("the new number's message: %+v", m)
				}
			})
		})
	}
}

// TestWebhookContactsAndBatches: each customer gets one conversation on the channel, whether known by
// WhatsApp id or only by a business-scoped id (BSUID); a batch from two customers makes two; a webhook
// with several entries stores each change for this channel and refuses the one for a phone number no
// channel has.
func TestWebhookContactsAndBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, admin, path := fixtureInbox(t, st)
		meta := ts.anonymous()
		counts := func() (convs, contacts int) {
			t.Helper()
			all := conversationsOf(t, admin, "")
			ids := map[int64]bool{}
			for _, c := range all {
				ids[c.Contact.ID] = true
			}
			return len(all), len(ids)
		}

		meta.postWebhook(path, fixture(t, "bsuid_contact.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		convs := conversationsOf(t, admin, "")
		if len(convs) != 1 {
			t.Fatalf("%d conversations", len(convs))
		}
		if c := convs[0].Contact; c.WaID != "" || c.BSUID != fixtureBSUID || c.Phone != "" || c.Name != "Lena" {
			t.Fatalf("a contact known by BSUID only: %+v", c)
		}
		meta.postWebhook(path, fixture(t, "text.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		if n, c := counts(); n != 2 || c != 2 {
			t.Fatalf("the same name by WhatsApp id is another customer: %d conversations, %d contacts", n, c)
		}
		meta.postWebhook(path, fixture(t, "batch_two_contacts.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		if n, c := counts(); n != 3 || c != 3 {
			t.Fatalf("a batch from Lena and João: %d conversations, %d contacts, want 3 and 3", n, c)
		}
		meta.postWebhook(path, fixture(t, "multi_entry.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		if n, c := counts(); n != 3 || c != 3 {
			t.Fatalf("multi_entry: %d conversations, %d contacts, want 3 and 3", n, c)
		}
		for _, c := range conversationsOf(t, admin, "") {
			msgs := messagesOf(t, admin, c.ID)
			want := map[string]int{fixtureCustomer: 3, "5511987654321": 1, "": 1}[c.Contact.WaID]
			if len(msgs) != want {
				t.Errorf("%s's conversation has %d messages, want %d", c.Contact.Name, len(msgs), want)
			}
		}
		got := allMessages(t, admin)
		if _, ok := got[fixtureEntryOneWamid]; !ok {
			t.Fatal("multi_entry's change for this channel was not stored")
		}
		if _, ok := got[fixtureOtherWamid]; ok {
			t.Fatal("multi_entry's change for a phone number of no channel was stored")
		}
	})
}

// TestWebhookOtherPhoneNumbers: a webhook posted to one channel's URL may carry changes for another
// phone number (multi_entry.json). One Meta app serving several numbers signs them all with its app
// secret, so a change for a channel with the same app secret is stored on that channel; a change for a
// channel with another app secret, or for a phone number no channel has, is refused, logged and stores
// nothing, while the rest of the webhook is stored and acknowledged.
func TestWebhookOtherPhoneNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ts, logs := newLoggedTestServer(t, st)
		ts.mustAgent("Ada", "ada@example.com", switchboard.RoleAdmin)
		admin := ts.login("ada@example.com")
		a, pathA := ts.webhookChannel(fixturePhoneNumberID, fixtureAppSecret)
		b, pathB := ts.webhookChannel(fixtureOtherPhoneNumberID, fixtureAppSecret)
		meta := ts.anonymous()
		onA, onB := fmt.Sprintf("channel_id=%d", a.ID), fmt.Sprintf("channel_id=%d", b.ID)

		// The same app: each entry is stored on its own channel.
		meta.postWebhook(pathA, fixture(t, "multi_entry.json"), fixtureAppSecret).wantStatus(http.StatusOK)
		convA, convB := conversationsOf(t, admin, onA), conversationsOf(t, admin, onB)
		if len(convA) != 1 || convA[0].Contact.WaID != fixtureCustomer || len(convB) != 1 || convB[0].Contact.WaID != fixtureOtherCustomer {
			t.Fatalf("conversations: %+v on A, %+v on B", convA, convB)
		}
		if msgs := messagesOf(t, admin, convB[0].ID); len(msgs) != 1 || msgs[0].ExternalID != fixtureOtherWamid || msgs[0].Text != "entry two" {
			t.Fatalf("the sibling channel's messages: %+v", msgs)
		}
		if logs.warned("payload_phone_number_id", fixtureOtherPhoneNumberID) {
			t.Fatal("a change for a channel of the same app was refused")
		}

		// B now belongs to another app: its change is refused and logged, A's is stored.
		admin.do("PATCH", fmt.Sprintf("/api/v1/channels/%d", b.ID), map[string]any{"app_secret": "another-app-secret"}).wantStatus(http.StatusOK)
		again := replaced(fixture(t, "multi_entry.json"), fixtureEntryOneWamid, "wamid.entry-one-again", fixtureOtherWamid, "wamid.entry-two-again")
		meta.postWebhook(pathA, again, fixtureAppSecret).wantStatus(http.StatusOK)
		got := allMessages(t, admin)
		if _, ok := got["wamid.entry-one-again"]; !ok {
			t.Fatal("the change for the posting channel was not stored")
		}
		if _, ok := got["wamid.entry-two-again"]; ok || len(messagesOf(t, admin, convB[0].ID)) != 1 {
			t.Fatal("a change for a channel of another app was stored")
		}
		if !logs.warned("payload_phone_number_id", fixtureOtherPhoneNumberID) {
			t.Fatal("the refused change was not logged")
		}

		// A webhook only for B, signed with A's app secret and posted to A: acknowledged, nothing stored.
		snapshot := func() string {
			t.Helper()
			return fmt.Sprintf("%d conversations, %d messages, %d+%d channel events", len(conversationsOf(t, admin, "")),
				len(allMessages(t, admin)), len(channelEvents(t, admin, a.ID)), len(channelEvents(t, admin, b.ID)))
		}
		before := snapshot()
		onlyB := replaced(onlyEntry(t, fixture(t, "multi_entry.json"), 1), fixtureOtherWamid, "wamid.entry-two-alone")
		meta.postWebhook(pathA, onlyB, fixtureAppSecret).wantStatus(http.StatusOK)
		// A phone number no channel has: the same.
		nobody := replaced(onlyB, fixtureOtherPhoneNumberID, "129999999999999", "wamid.entry-two-alone", "wamid.nobodys")
		meta.postWebhook(pathA, nobody, fixtureAppSecret).wantStatus(http.StatusOK)
		if after := snapshot(); after != before {
			t.Fatalf("refused changes stored something: %s, then %s", before, after)
		}
		if !logs.warned("payload_phone_number_id", "129999999999999") {
			t.Fatal("the change for an unknown phone number was not logged")
		}
		// Signed with B's own secret, it is not A's to store (401), and B stores it from its own URL.
		meta.postWebhook(pathA, onlyB, "another-app-secret").wantStatus(http.StatusUnauthorized)
		meta.postWebhook(pathB, onlyB, "another-app-secret").wantStatus(http.StatusOK)
		if msgs := messagesOf(t, admin, convB[0].ID); len(msgs) != 2 || msgs[1].ExternalID != "wamid.entry-two-alone" {
			t.Fatalf("B's own webhook: %+v", msgs)
		}
	})
}
