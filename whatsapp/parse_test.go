package whatsapp

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestParseWebhookRejects(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"empty", ``, ErrInvalidWebhook},
		{"truncated", `{"object":"whatsapp_business_account","entry":[`, ErrInvalidWebhook},
		{"html", `<html>502</html>`, ErrInvalidWebhook},
		{"array", `[{"object":"whatsapp_business_account"}]`, ErrNotWhatsApp},
		{"string", `"whatsapp_business_account"`, ErrNotWhatsApp},
		{"other object", `{"object":"page","entry":[]}`, ErrNotWhatsApp},
		{"no object", `{"entry":[]}`, ErrNotWhatsApp},
		{"object not a string", `{"object":7,"entry":[]}`, ErrNotWhatsApp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wh, err := ParseWebhook([]byte(tt.body))
			if !errors.Is(err, tt.want) || wh != nil {
				t.Fatalf("ParseWebhook = %v, %v; want %v", wh, err, tt.want)
			}
		})
	}
}

func TestParseWebhookBatchTwoContacts(t *testing.T) {
	c := parseOne(t, "batch_two_contacts")
	if len(c.Contacts) != 2 || len(c.Messages) != 2 {
		t.Fatalf("%d contacts, %d messages; want 2 and 2", len(c.Contacts), len(c.Messages))
	}
	wantNames := []string{"Lena Vogel", "João Silva"}
	for i, m := range c.Messages {
		ct, ok := c.ContactFor(m)
		if !ok || ct.Name != wantNames[i] || ct.WaID != m.From {
			t.Errorf("message %d from %s: contact %+v, %v", i, m.From, ct, ok)
		}
	}
	if got := c.Messages[1]; got.Text != "Olá! Segundo cliente" || !got.Timestamp.Equal(fixtureTime.Add(time.Minute)) {
		t.Errorf("second message = %q at %v", got.Text, got.Timestamp)
	}
}

func TestParseWebhookSeveralEntriesAndChanges(t *testing.T) {
	wh, err := ParseWebhook(readFixture(t, "multi_entry"))
	if err != nil {
		t.Fatal(err)
	}
	if len(wh.Changes) != 3 {
		t.Fatalf("%d changes, want 3", len(wh.Changes))
	}
	first, second, third := wh.Changes[0], wh.Changes[1], wh.Changes[2]
	if first.WABAID != fixtureWABA || len(first.Messages) != 1 || first.Messages[0].Text != "entry one" {
		t.Errorf("first change = %+v", first)
	}
	if second.WABAID != fixtureWABA || len(second.Statuses) != 1 || second.Statuses[0].Status != StatusDelivered {
		t.Errorf("second change = %+v", second)
	}
	if third.WABAID != "310987654321098" || third.PhoneNumberID != "119876543210987" ||
		third.DisplayPhoneNumber != "15550009999" || !third.Time.Equal(time.Unix(1767225700, 0)) {
		t.Errorf("third change envelope = %q %q %q %v", third.WABAID, third.PhoneNumberID, third.DisplayPhoneNumber, third.Time)
	}
	if len(third.Messages) != 1 || third.Messages[0].From != "34612345678" || third.Contacts[0].Name != "Ana Ruiz" {
		t.Errorf("third change messages = %+v contacts %+v", third.Messages, third.Contacts)
	}
}

func TestParseWebhookBSUIDContact(t *testing.T) {
	c := parseOne(t, "bsuid_contact")
	want := Contact{Name: "Lena", UserID: "DE.1349120865530274", Username: "@lena.v"}
	if len(c.Contacts) != 1 || c.Contacts[0] != want {
		t.Fatalf("contacts = %+v, want %+v", c.Contacts, want)
	}
	m := c.Messages[0]
	if m.From != "" || m.FromUserID != want.UserID || m.Text != "Hi, I use a username now" {
		t.Errorf("message = %+v", m)
	}
	if ct, ok := c.ContactFor(m); !ok || ct != want {
		t.Errorf("ContactFor by BSUID = %+v, %v", ct, ok)
	}
}

func TestParseWebhookTemplateStatusUpdate(t *testing.T) {
	c := parseOne(t, "template_status_update")
	want := &TemplateStatusUpdate{
		Event: "REJECTED", TemplateID: "1234567890123456", Name: "order_shipped", Language: "en_US",
		Reason: "INVALID_FORMAT", Category: "UTILITY", RejectionReason: "Variables are not formatted correctly",
		RejectionRecommendation: "Use {{1}} style placeholders",
	}
	if c.Field != FieldTemplateStatusUpdate || !reflect.DeepEqual(c.TemplateUpdate, want) {
		t.Errorf("template update = %+v", c.TemplateUpdate)
	}
	if !c.Time.Equal(time.Unix(1767225800, 0)) || len(c.Messages)+len(c.Statuses) != 0 {
		t.Errorf("time %v, messages %d, statuses %d", c.Time, len(c.Messages), len(c.Statuses))
	}
}

func TestParseWebhookQualityAndAccountUpdates(t *testing.T) {
	q := parseOne(t, "phone_number_quality_update")
	wantQ := &PhoneNumberQualityUpdate{DisplayPhoneNumber: fixtureDisplay, Event: "UPGRADE", CurrentLimit: "TIER_10K",
		MaxDailyConversations: "TIER_10K", OldLimit: "TIER_2K"}
	if q.Field != FieldPhoneNumberQualityUpdate || !reflect.DeepEqual(q.QualityUpdate, wantQ) || q.DisplayPhoneNumber != fixtureDisplay {
		t.Errorf("quality update = %+v (display %q)", q.QualityUpdate, q.DisplayPhoneNumber)
	}

	a := parseOne(t, "account_update")
	var value struct {
		Event         string `json:"event"`
		ViolationInfo struct {
			Type string `json:"violation_type"`
		} `json:"violation_info"`
	}
	if err := json.Unmarshal(a.Raw, &value); err != nil {
		t.Fatal(err)
	}
	if a.Field != FieldAccountUpdate || value.Event != "ACCOUNT_VIOLATION" || value.ViolationInfo.Type != "SCAM" {
		t.Errorf("account update: field %q, raw value %s", a.Field, a.Raw)
	}
	if a.TemplateUpdate != nil || a.QualityUpdate != nil || len(a.Messages) != 0 {
		t.Errorf("account update has typed parts: %+v", a)
	}
}

// TestParseWebhookTolerance feeds payloads that bend the documented shapes: each must parse, keeping
// every part that can be read.
func TestParseWebhookTolerance(t *testing.T) {
	wrap := func(value string) string {
		return `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":` + value + `}]}]}`
	}
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, wh *Webhook)
	}{
		{"no entries", `{"object":"whatsapp_business_account"}`, func(t *testing.T, wh *Webhook) {
			if len(wh.Changes) != 0 {
				t.Errorf("changes = %+v", wh.Changes)
			}
		}},
		{"entry is an object", `{"object":"whatsapp_business_account","entry":{"id":"1"}}`, func(t *testing.T, wh *Webhook) {
			if len(wh.Changes) != 0 {
				t.Errorf("changes = %+v", wh.Changes)
			}
		}},
		{"numeric timestamp and unknown fields", wrap(`{"messages":[{"id":"wamid.A","from":"1","timestamp":1767225600,"type":"text","text":{"body":"hi","extra":[1]},"new_field":{"x":1}}]}`),
			func(t *testing.T, wh *Webhook) {
				m := wh.Changes[0].Messages[0]
				if m.Text != "hi" || !m.Timestamp.Equal(fixtureTime) || m.Timestamp.Location() != time.UTC {
					t.Errorf("message = %+v", m)
				}
			}},
		{"unknown type kept raw", wrap(`{"messages":[{"id":"wamid.B","from":"1","timestamp":"1767225600","type":"hologram","hologram":{"x":1}}]}`),
			func(t *testing.T, wh *Webhook) {
				if m := wh.Changes[0].Messages[0]; m.Type != "hologram" || m.ID != "wamid.B" || m.Text != "" {
					t.Errorf("message = %+v", m)
				}
			}},
		{"malformed context keeps the text", wrap(`{"messages":[{"id":"wamid.C","from":"1","timestamp":"x","type":"text","text":{"body":"still here"},"context":["bad"],"referral":"bad"}]}`),
			func(t *testing.T, wh *Webhook) {
				m := wh.Changes[0].Messages[0]
				if m.Text != "still here" || m.Context != nil || m.Referral != nil || !m.Timestamp.IsZero() {
					t.Errorf("message = %+v", m)
				}
			}},
		{"wrong-typed inner field keeps its siblings", wrap(`{"messages":[{"id":"wamid.D","from":"1","timestamp":"1","type":"image","image":{"id":77,"caption":"c","voice":"true","animated":{"x":1}}}]}`),
			func(t *testing.T, wh *Webhook) {
				m := wh.Changes[0].Messages[0]
				if m.Media == nil || m.Media.ID != "77" || m.Media.Caption != "c" || !m.Media.Voice || m.Media.Animated {
					t.Errorf("media = %+v", m.Media)
				}
			}},
		{"non-object items are skipped", wrap(`{"messages":["junk",7,{"id":"wamid.E","type":"text","text":{"body":"ok"}}],"statuses":[null,{"id":"wamid.F","status":"deleted","timestamp":"1767225600"}],"contacts":"none"}`),
			func(t *testing.T, wh *Webhook) {
				c := wh.Changes[0]
				if len(c.Messages) != 1 || c.Messages[0].ID != "wamid.E" || len(c.Contacts) != 0 {
					t.Errorf("messages = %+v, contacts = %+v", c.Messages, c.Contacts)
				}
				if len(c.Statuses) != 1 || c.Statuses[0].Status != "deleted" || c.Statuses[0].Rank() != RankUnknown {
					t.Errorf("statuses = %+v", c.Statuses)
				}
			}},
		{"value is not an object", `{"object":"whatsapp_business_account","entry":[{"id":"9","changes":[{"field":"messages","value":"?"}]}]}`,
			func(t *testing.T, wh *Webhook) {
				if c := wh.Changes[0]; c.WABAID != "9" || c.Field != "messages" || len(c.Messages) != 0 {
					t.Errorf("change = %+v", c)
				}
			}},
		{"nfm response_json as an object", wrap(`{"messages":[{"id":"wamid.G","type":"interactive","interactive":{"type":"nfm_reply","nfm_reply":{"name":"flow","body":"Sent","response_json":{"a":1}}}}]}`),
			func(t *testing.T, wh *Webhook) {
				if r := wh.Changes[0].Messages[0].Interactive; r == nil || r.FlowResponseJSON != `{"a":1}` {
					t.Errorf("interactive = %+v", r)
				}
			}},
		{"interactive without type", wrap(`{"messages":[{"id":"wamid.H","type":"interactive","interactive":{"button_reply":{"id":"b1","title":"One"}}}]}`),
			func(t *testing.T, wh *Webhook) {
				if r := wh.Changes[0].Messages[0].Interactive; r == nil || r.Type != InteractiveButtonReply || r.ID != "b1" {
					t.Errorf("interactive = %+v", r)
				}
			}},
		{"template id as a string", `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":{"event":"APPROVED","message_template_id":"42","disable_info":"bad"}}]}]}`,
			func(t *testing.T, wh *Webhook) {
				if u := wh.Changes[0].TemplateUpdate; u == nil || u.TemplateID != "42" || u.Event != "APPROVED" {
					t.Errorf("template update = %+v", u)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wh, err := ParseWebhook([]byte(tt.body))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			tt.check(t, wh)
		})
	}
}
