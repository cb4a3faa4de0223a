package graphtest

import (
	"net/http"
	"testing"
	"time"

	"switchboard/whatsapp"
)

func TestInboundDeliveredSignedAndParsed(t *testing.T) {
	h := newHarness(t, Options{})
	sha := h.fake.PutMedia("9001", "image/jpeg", []byte("jpeg"))
	msgs := []InboundMessage{
		TextMessage(customer, "Lena Vogel", "Hallo!"),
		MediaMessage(customer, "Lena Vogel", InboundMedia{Kind: "image", ID: "9001", MimeType: "image/jpeg", SHA256: sha, Caption: "damaged box"}),
		MediaMessage(customer, "Lena Vogel", InboundMedia{Kind: "audio", ID: "9002", MimeType: "audio/ogg; codecs=opus", Voice: true}),
		ButtonReply(customer, "Lena Vogel", "wamid.OURS1", "yes", "Yes please"),
		ListReply(customer, "Lena Vogel", "wamid.OURS2", "slot_am", "Morning", "8-12"),
		TemplateButtonReply(customer, "Lena Vogel", "wamid.OURS3", "STOP", "Stop promotions"),
		Reaction(customer, "Lena Vogel", "wamid.OURS1", "👍"),
		Reaction(customer, "Lena Vogel", "wamid.OURS1", ""),
		Location(customer, "Lena Vogel", 52.52, 13.405, "Berlin", ""),
		TextMessage("5511987654321", "João", "Olá"),
	}
	body, err := h.fake.Inbound(testPNID, msgs...)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.fake.Deliver(t.Context(), testPNID, body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Deliver = %v, %v", resp, err)
	}
	resp.Body.Close()
	d := h.hooks.wait(1)[0]
	c := d.Webhook.Changes[0]
	if c.PhoneNumberID != testPNID || c.WABAID != testWABA || len(c.Contacts) != 2 || len(c.Messages) != len(msgs) {
		t.Fatalf("change = %d contacts, %d messages", len(c.Contacts), len(c.Messages))
	}
	seen := map[string]bool{}
	for i, m := range c.Messages {
		if m.ID != msgs[i].ID || seen[m.ID] || !m.Timestamp.Equal(h.clock.Now()) {
			t.Errorf("message %d: id %q (want %q), time %v", i, m.ID, msgs[i].ID, m.Timestamp)
		}
		seen[m.ID] = true
		if ct, ok := c.ContactFor(m); !ok || ct.WaID != m.From {
			t.Errorf("message %d has no contact", i)
		}
	}
	checks := []struct {
		ok   bool
		what string
	}{
		{c.Messages[0].Text == "Hallo!", "text"},
		{c.Messages[1].Media != nil && c.Messages[1].Media.ID == "9001" && c.Messages[1].Text == "damaged box" && c.Messages[1].Media.SHA256 == sha, "image"},
		{c.Messages[2].Media != nil && c.Messages[2].Media.Voice && c.Messages[2].Type == "audio", "voice"},
		{c.Messages[3].Interactive != nil && c.Messages[3].Interactive.ID == "yes" && c.Messages[3].Context.ID == "wamid.OURS1" &&
			c.Messages[3].Context.From == testDisplay, "button reply"},
		{c.Messages[4].Interactive != nil && c.Messages[4].Interactive.Type == whatsapp.InteractiveListReply && c.Messages[4].Text == "Morning", "list reply"},
		{c.Messages[5].Button != nil && c.Messages[5].Button.Payload == "STOP", "template button"},
		{c.Messages[6].Reaction != nil && c.Messages[6].Reaction.Emoji == "👍" && !c.Messages[6].Reaction.Removed, "reaction"},
		{c.Messages[7].Reaction != nil && c.Messages[7].Reaction.Removed, "reaction removed"},
		{c.Messages[8].Location != nil && c.Messages[8].Location.Latitude == 52.52 && c.Messages[8].Location.Name == "Berlin", "location"},
		{c.Messages[9].From == "5511987654321", "second customer"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("%s parsed wrong: %s", ch.what, d.Body)
		}
	}
	if _, err := h.fake.Inbound("unknown", msgs[0]); err == nil {
		t.Error("Inbound for an unknown number succeeded")
	}
}

// TestEnvelopeWithoutServer builds a body for the load generator's use: no Server, preset timestamps
// kept, one contact per sender.
func TestEnvelopeWithoutServer(t *testing.T) {
	n := Number{PhoneNumberID: "1", DisplayPhoneNumber: "15550000000", WABAID: "2"}
	early := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := TextMessage("491", "A", "one"), TextMessage("491", "A", "two")
	a.Timestamp = early
	wh, err := whatsapp.ParseWebhook(Envelope(n, early.Add(time.Hour), a, b))
	if err != nil {
		t.Fatal(err)
	}
	c := wh.Changes[0]
	if c.WABAID != "2" || c.PhoneNumberID != "1" || len(c.Contacts) != 1 || len(c.Messages) != 2 {
		t.Fatalf("change = %+v", c)
	}
	if !c.Messages[0].Timestamp.Equal(early) || !c.Messages[1].Timestamp.Equal(early.Add(time.Hour)) {
		t.Errorf("timestamps = %v, %v", c.Messages[0].Timestamp, c.Messages[1].Timestamp)
	}
}

func TestNewMessageIDsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 10000 {
		id := NewMessageID()
		if seen[id] {
			t.Fatalf("duplicate wamid %s", id)
		}
		seen[id] = true
	}
}

func TestWaID(t *testing.T) {
	for in, want := range map[string]string{
		"+49 151 1234-5678":   "4915112345678",
		"4915112345678":       "4915112345678",
		"(030) 123":           "030123",
		"DE.1349120865530274": "DE.1349120865530274",
		"":                    "",
	} {
		if got := waID(in); got != want {
			t.Errorf("waID(%q) = %q, want %q", in, got, want)
		}
	}
}
