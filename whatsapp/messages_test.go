package whatsapp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// Identifiers used by the fixtures in testdata/.
const (
	fixtureWABA    = "210987654321098"
	fixturePNID    = "109876543210987"
	fixtureDisplay = "15550001234"
	fixtureCust    = "4915112345678"
	fixtureOurID   = "wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYEjRCNkY1QTk4QzEyMzRENTZFNwA="
	wamidPrefix    = "wamid.HBgNNDkxNTExMjM0NTY3OBUCABIYFj"
)

var fixtureTime = time.Unix(1767225600, 0).UTC()

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseOne parses a fixture that holds exactly one change and checks its envelope.
func parseOne(t *testing.T, name string) Change {
	t.Helper()
	wh, err := ParseWebhook(readFixture(t, name))
	if err != nil {
		t.Fatalf("ParseWebhook(%s): %v", name, err)
	}
	if len(wh.Changes) != 1 {
		t.Fatalf("%s: %d changes, want 1", name, len(wh.Changes))
	}
	c := wh.Changes[0]
	if c.WABAID != fixtureWABA || !json.Valid(c.Raw) {
		t.Errorf("%s: WABAID %q, Raw valid %v", name, c.WABAID, json.Valid(c.Raw))
	}
	return c
}

// inbound returns the common part of an expected fixture message.
func inbound(typ, idTag string) Message {
	return Message{ID: wamidPrefix + idTag, From: fixtureCust, Timestamp: fixtureTime, Type: typ}
}

func with(m Message, fill func(*Message)) Message {
	fill(&m)
	return m
}

func jsonString(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestParseWebhookMessageTypes(t *testing.T) {
	replyCtx := &Context{From: fixtureDisplay, ID: fixtureOurID}
	tests := []struct {
		fixture string
		want    Message
	}{
		{"text", with(inbound("text", "QzFBMkIzQzRENUU2RjdBOEI5QzA="), func(m *Message) {
			m.Text = "Hallo, is my order on its way?"
		})},
		{"text_reply_context", with(inbound("text", "RSZXBseUNvbnRleHQwMDAwMDAx="), func(m *Message) {
			m.Text, m.Context = "Yes, that one please", replyCtx
		})},
		{"text_forwarded", with(inbound("text", "RTNGNEE1QjZDN0Q4RTlGMEExQjI="), func(m *Message) {
			m.Text, m.Context = "Look at this deal", &Context{Forwarded: true}
		})},
		{"image", with(inbound("image", "RjRBNUI2QzdEOEU5RjBBMUIyQzM="), func(m *Message) {
			m.Text = "The box arrived damaged"
			m.Media = &Media{ID: "1840039204551234", MimeType: "image/jpeg", SHA256: "q1Zk0yN4u8pXoJ7mB2cT9vL3sR6wE5aY0dF8gH1jK2M=", Caption: "The box arrived damaged"}
		})},
		{"image_url", with(inbound("image", "QTVCNkM3RDhFOUYwQTFCMkMzRDQ="), func(m *Message) {
			m.Context = &Context{FrequentlyForwarded: true}
			m.Media = &Media{ID: "1840039204555678", MimeType: "image/png", SHA256: "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo=",
				URL: "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1840039204555678&ext=1767225900&hash=ATtX9k"}
		})},
		{"audio", with(inbound("audio", "QjZDN0Q4RTlGMEExQjJDM0Q0RTU="), func(m *Message) {
			m.Media = &Media{ID: "2210456789012345", MimeType: "audio/mpeg", SHA256: "YXVkaW9maWxlZGlnZXN0MDAwMDAwMDAwMDAwMDAwMDA="}
		})},
		{"voice", with(inbound("audio", "QzdEOEU5RjBBMUIyQzNENEU1RjY="), func(m *Message) {
			m.Media = &Media{ID: "2210456789016789", MimeType: "audio/ogg; codecs=opus", SHA256: "dm9pY2Vub3RlZGlnZXN0MDAwMDAwMDAwMDAwMDAwMDA=", Voice: true}
		})},
		{"video", with(inbound("video", "RDhFOUYwQTFCMkMzRDRFNUY2QTc="), func(m *Message) {
			m.Text = "Unboxing"
			m.Media = &Media{ID: "3310456789012345", MimeType: "video/mp4", SHA256: "dmlkZW9kaWdlc3QwMDAwMDAwMDAwMDAwMDAwMDAwMDA=", Caption: "Unboxing"}
		})},
		{"document", with(inbound("document", "RTlGMEExQjJDM0Q0RTVGNkE3Qjg="), func(m *Message) {
			m.Text = "My invoice"
			m.Media = &Media{ID: "4410456789012345", MimeType: "application/pdf", SHA256: "ZG9jdW1lbnRkaWdlc3QwMDAwMDAwMDAwMDAwMDAwMDA=",
				Filename: "invoice-2026-001.pdf", Caption: "My invoice"}
		})},
		{"sticker", with(inbound("sticker", "RjBBMUIyQzNENEU1RjZBN0I4Qzk="), func(m *Message) {
			m.Media = &Media{ID: "5510456789012345", MimeType: "image/webp", SHA256: "c3RpY2tlcmRpZ2VzdDAwMDAwMDAwMDAwMDAwMDAwMDA=", Animated: true}
		})},
		{"location", with(inbound("location", "QTFCMkMzRDRFNUY2QTdCOEM5RDA="), func(m *Message) {
			m.Location = &Location{Latitude: 52.5219184, Longitude: 13.4132147, Name: "Berlin Alexanderplatz",
				Address: "Alexanderplatz 1, 10178 Berlin", URL: "https://example.com/alex"}
			m.Text = "Location: Berlin Alexanderplatz, Alexanderplatz 1, 10178 Berlin (52.5219184, 13.4132147)"
		})},
		{"location_pin", with(inbound("location", "QjJDM0Q0RTVGNkE3QjhDOUQwRTE="), func(m *Message) {
			m.Location = &Location{Latitude: 48.137154, Longitude: 11.576124}
			m.Text = "Location: 48.137154, 11.576124"
		})},
		{"contacts", with(inbound("contacts", "QzNENEU1RjZBN0I4QzlEMEUxRjI="), func(m *Message) {
			m.SharedContacts = []SharedContact{{
				Name:      ContactName{FormattedName: "Max Berger", FirstName: "Max", LastName: "Berger"},
				Phones:    []ContactPhone{{"+49 40 1234567", "49401234567", "WORK"}, {"+49 151 7654321", "", "CELL"}},
				Emails:    []ContactEmail{{"max@example.com", "WORK"}},
				Addresses: []ContactAddress{{"Jungfernstieg 7", "Hamburg", "HH", "20354", "Germany", "DE", "WORK"}},
				URLs:      []ContactURL{{"https://berger.example.com", "WORK"}},
				Org:       ContactOrg{"Berger Logistik", "Dispatch", "Lead"},
				Birthday:  "1990-04-12",
			}}
			m.Text = "Contact: Max Berger, +49 40 1234567"
		})},
		{"interactive_button_reply", with(inbound("interactive", "RDRFNUY2QTdCOEM5RDBFMUYyQTM="), func(m *Message) {
			m.Context, m.Text = replyCtx, "Yes, deliver"
			m.Interactive = &InteractiveReply{Type: InteractiveButtonReply, ID: "confirm_delivery", Title: "Yes, deliver"}
		})},
		{"interactive_list_reply", with(inbound("interactive", "RTVGNkE3QjhDOUQwRTFGMkEzQjQ="), func(m *Message) {
			m.Context, m.Text = replyCtx, "Morning 8-12"
			m.Interactive = &InteractiveReply{Type: InteractiveListReply, ID: "slot_morning", Title: "Morning 8-12",
				Description: "Courier arrives between 8 and 12"}
		})},
		{"interactive_nfm_reply", with(inbound("interactive", "RjZBN0I4QzlEMEUxRjJBM0I0QzU="), func(m *Message) {
			m.Context, m.Text = replyCtx, "Sent"
			m.Interactive = &InteractiveReply{Type: InteractiveFlowReply, FlowName: "flow", FlowBody: "Sent",
				FlowResponseJSON: `{"flow_token":"returns-42","reason":"wrong_size","pickup":true}`}
		})},
		{"button", with(inbound("button", "QTdCOEM5RDBFMUYyQTNCNEM1RDY="), func(m *Message) {
			m.Context, m.Text = replyCtx, "Stop promotions"
			m.Button = &ButtonReply{Payload: "STOP_PROMOS", Text: "Stop promotions"}
		})},
		{"reaction", with(inbound("reaction", "QjhDOUQwRTFGMkEzQjRDNUQ2RTc="), func(m *Message) {
			m.Reaction = &Reaction{MessageID: fixtureOurID, Emoji: "👍"}
		})},
		{"reaction_removed", with(inbound("reaction", "QzlEMEUxRjJBM0I0QzVENkU3Rjg="), func(m *Message) {
			m.Reaction = &Reaction{MessageID: fixtureOurID, Removed: true}
		})},
		{"reaction_removed_empty", with(inbound("reaction", "RDBFMUYyQTNCNEM1RDZFN0Y4QTk="), func(m *Message) {
			m.Reaction = &Reaction{MessageID: fixtureOurID, Removed: true}
		})},
		{"order", with(inbound("order", "RTFGMkEzQjRDNUQ2RTdGOEE5QjA="), func(m *Message) {
			m.Order = &Order{CatalogID: "771234567890123", Text: "Please gift wrap", Items: []OrderItem{
				{"sku-mug-01", 2, 12.5, "EUR"}, {"sku-tee-07", 1, 24.9, "EUR"},
			}}
			m.Text = "Order: 2 × sku-mug-01 (12.5 EUR), 1 × sku-tee-07 (24.9 EUR)\nPlease gift wrap"
		})},
		{"system_user_changed_number", with(inbound("system", "RjJBM0I0QzVENkU3RjhBOUIwQzE="), func(m *Message) {
			m.System = &SystemChange{Type: SystemUserChangedNumber, NewWaID: "4915187654321",
				Body: "User Lena Vogel changed from 4915112345678 to 4915187654321"}
			m.Text = m.System.Body
		})},
		{"system_customer_changed_number", with(inbound("system", "QTNCNEM1RDZFN0Y4QTlCMEMxRDI="), func(m *Message) {
			m.System = &SystemChange{Type: SystemCustomerChangedNumber, NewWaID: "4915187654321",
				Body: "Lena Vogel changed from 4915112345678 to 4915187654321"}
			m.Text = m.System.Body
		})},
		{"system_customer_identity_changed", with(inbound("system", "QjRDNUQ2RTdGOEE5QjBDMUQyRTM="), func(m *Message) {
			m.System = &SystemChange{Type: SystemCustomerIdentityChanged, Body: "Lena Vogel's security code changed",
				Customer: fixtureCust, Identity: "c2VjdXJpdHljb2RlaGFzaA=="}
			m.Text = m.System.Body
		})},
		{"unsupported", with(inbound("unsupported", "QzVENkU3RjhBOUIwQzFEMkUzRjQ="), func(m *Message) {
			m.UnsupportedType = "poll_creation"
			m.Errors = []Error{{Code: 131051, Title: "Message type unknown", Message: "Message type unknown",
				Details: "Message type is currently not supported.", Href: "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}
		})},
		{"unknown", with(inbound("unknown", "RDZFN0Y4QTlCMEMxRDJFM0Y0QTU="), func(m *Message) {
			m.Errors = []Error{{Code: 131051, Title: "Message type unknown", Message: "Message type unknown",
				Details: "Message type is not currently supported"}}
		})},
		{"revoke", with(inbound("revoke", "RTdGOEE5QjBDMUQyRTNGNEE1QjY="), func(m *Message) {
			m.Revoke = &Revoke{OriginalMessageID: wamidPrefix + "QzFBMkIzQzRENUU2RjdBOEI5QzA="}
		})},
		{"referral_ad", with(inbound("text", "RjhBOUIwQzFEMkUzRjRBNUI2Qzc="), func(m *Message) {
			m.Text = "Hi! I saw your ad about the spring sale"
			m.Referral = &Referral{SourceURL: "https://fb.me/4kQpZx2Ab", SourceID: "120210987654321098", SourceType: "ad",
				Body: "Spring sale: 30% off all mugs", Headline: "Chat with us", MediaType: "image",
				ImageURL:       "https://scontent.example.net/ad.jpg",
				CTWAClid:       "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a",
				WelcomeMessage: "Hi there! Ask us anything about the sale."}
		})},
		{"product_enquiry", with(inbound("text", "QTlCMEMxRDJFM0Y0QTVCNkM3RDg="), func(m *Message) {
			m.Text = "Is this mug dishwasher safe?"
			m.Context = &Context{From: fixtureDisplay, ID: "wamid.HBgNNDkxNTExMjM0NTY3OBUCABEYD3Byb2R1Y3RfaW5xdWlyeQA=",
				ReferredProduct: &ReferredProduct{CatalogID: "771234567890123", ProductRetailerID: "sku-mug-01"}}
		})},
		{"message_errors", with(inbound("image", "QjBDMUQyRTNGNEE1QjZDN0Q4RTk="), func(m *Message) {
			m.Errors = []Error{{Code: 131052, Title: "Media download error", Message: "Media download error",
				Details: "Unable to download the media sent by the user."}}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			c := parseOne(t, tt.fixture)
			if c.Field != FieldMessages || c.PhoneNumberID != fixturePNID || c.DisplayPhoneNumber != fixtureDisplay {
				t.Errorf("envelope: field %q, phone number id %q, display %q", c.Field, c.PhoneNumberID, c.DisplayPhoneNumber)
			}
			if len(c.Messages) != 1 {
				t.Fatalf("%d messages, want 1", len(c.Messages))
			}
			got := c.Messages[0]
			if !json.Valid(got.Raw) {
				t.Errorf("Raw is not the original item: %q", got.Raw)
			}
			got.Raw = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("message mismatch\n got: %s\nwant: %s", jsonString(got), jsonString(tt.want))
			}
			if tt.want.Type != TypeSystem {
				ct, ok := c.ContactFor(got)
				if !ok || ct.Name != "Lena Vogel" {
					t.Errorf("ContactFor = %+v, %v", ct, ok)
				}
			} else if len(c.Contacts) != 0 {
				t.Errorf("system change has contacts: %+v", c.Contacts)
			}
		})
	}
}

// TestParseWebhookValueErrors: a "messages" change may carry value.errors[] instead of messages or
// statuses — errors not tied to one message (WHATSAPP.md §3, §7 "async"). They are parsed into
// Change.Errors with every field and classify like the same code returned by a send.
func TestParseWebhookValueErrors(t *testing.T) {
	c := parseOne(t, "value_errors")
	if c.Field != FieldMessages || c.PhoneNumberID != fixturePNID || c.DisplayPhoneNumber != fixtureDisplay {
		t.Errorf("envelope: field %q, phone number id %q, display %q", c.Field, c.PhoneNumberID, c.DisplayPhoneNumber)
	}
	if len(c.Messages) != 0 || len(c.Statuses) != 0 || len(c.Contacts) != 0 {
		t.Errorf("out-of-band errors carry no messages, statuses or contacts: %+v", c)
	}
	want := []Error{{Code: 131042, Title: "Business eligibility payment issue", Message: "Business eligibility payment issue",
		Details: "Message failed to send because there were one or more errors related to your payment method.",
		Href:    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}}
	if !reflect.DeepEqual(c.Errors, want) {
		t.Fatalf("errors\n got: %s\nwant: %s", jsonString(c.Errors), jsonString(want))
	}
	if got := Classify(c.Errors[0]); got != ClassPermanent {
		t.Errorf("a payment problem classifies as %v, want permanent (not retried)", got)
	}
}
