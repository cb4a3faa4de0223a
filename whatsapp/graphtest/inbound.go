package graphtest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// InboundMessage is a customer message to wrap in a webhook with Envelope or Server.Inbound. The
// builders below fill it; Content is the object named after Type, marshalled as is, so any type Meta
// sends can be played.
type InboundMessage struct {
	// ID is the wamid; builders set a fresh one.
	ID string
	// From is the customer's wa_id (digits); Name their profile name.
	From string
	Name string
	// Timestamp is the message time; zero means the time the envelope is built.
	Timestamp time.Time
	Type      string
	Content   any
	// ReplyTo, when set, is the wamid of the message this one answers (context.id).
	ReplyTo string
}

// InboundMedia describes a customer's media for MediaMessage. Kind is image, audio, video, document or
// sticker; SHA256 is PutMedia's result so a download can be verified.
type InboundMedia struct {
	Kind     string
	ID       string
	MimeType string
	SHA256   string
	Caption  string
	Filename string
	Voice    bool
}

var idSeq atomic.Uint64

// NewMessageID returns a fresh, unique wamid in Meta's style.
func NewMessageID() string { return newMessageID() }

func newMessageID() string {
	var b [8]byte
	rand.Read(b[:])
	raw := fmt.Appendf(nil, "HBgM%012d%x", idSeq.Add(1), b)
	return "wamid." + base64.StdEncoding.EncodeToString(raw)
}

// newNumericID returns a fresh id shaped like Meta's media and template ids.
func newNumericID() string {
	return strconv.FormatUint(1_000_000_000_000_000+idSeq.Add(1), 10)
}

func inbound(from, name, typ string, content any) InboundMessage {
	return InboundMessage{ID: newMessageID(), From: from, Name: name, Type: typ, Content: content}
}

// TextMessage is a customer's text message.
func TextMessage(from, name, text string) InboundMessage {
	return inbound(from, name, "text", map[string]string{"body": text})
}

// MediaMessage is a customer's image, audio, video, document or sticker.
func MediaMessage(from, name string, m InboundMedia) InboundMessage {
	obj := map[string]any{"id": m.ID, "mime_type": m.MimeType, "sha256": m.SHA256}
	if m.Caption != "" {
		obj["caption"] = m.Caption
	}
	if m.Filename != "" {
		obj["filename"] = m.Filename
	}
	switch m.Kind {
	case "audio":
		obj["voice"] = m.Voice
	case "sticker":
		obj["animated"] = false
	}
	return inbound(from, name, m.Kind, obj)
}

// ButtonReply is a tap on a reply button of our interactive message contextID.
func ButtonReply(from, name, contextID, id, title string) InboundMessage {
	m := inbound(from, name, "interactive", map[string]any{
		"type": "button_reply", "button_reply": map[string]string{"id": id, "title": title},
	})
	m.ReplyTo = contextID
	return m
}

// ListReply is a row picked in our list message contextID.
func ListReply(from, name, contextID, id, title, description string) InboundMessage {
	m := inbound(from, name, "interactive", map[string]any{
		"type": "list_reply", "list_reply": map[string]string{"id": id, "title": title, "description": description},
	})
	m.ReplyTo = contextID
	return m
}

// TemplateButtonReply is a quick-reply tap on our template message contextID (type "button").
func TemplateButtonReply(from, name, contextID, payload, text string) InboundMessage {
	m := inbound(from, name, "button", map[string]string{"payload": payload, "text": text})
	m.ReplyTo = contextID
	return m
}

// Reaction is a customer's emoji reaction to our message; an empty emoji removes it (Meta then omits
// the emoji field).
func Reaction(from, name, messageID, emoji string) InboundMessage {
	obj := map[string]string{"message_id": messageID}
	if emoji != "" {
		obj["emoji"] = emoji
	}
	return inbound(from, name, "reaction", obj)
}

// Location is a shared location; place and address may be empty, as for a dropped pin.
func Location(from, name string, latitude, longitude float64, place, address string) InboundMessage {
	obj := map[string]any{"latitude": latitude, "longitude": longitude}
	if place != "" {
		obj["name"] = place
	}
	if address != "" {
		obj["address"] = address
	}
	return inbound(from, name, "location", obj)
}

// Envelope returns the webhook body Meta would post for number n carrying msgs, with one contacts[]
// entry per sender; messages without a timestamp get now.
func Envelope(n Number, now time.Time, msgs ...InboundMessage) []byte {
	items := make([]map[string]any, 0, len(msgs))
	var contacts []map[string]any
	seen := map[string]bool{}
	for _, m := range msgs {
		at := m.Timestamp
		if at.IsZero() {
			at = now
		}
		item := map[string]any{"from": m.From, "id": m.ID, "timestamp": strconv.FormatInt(at.Unix(), 10), "type": m.Type}
		if m.Content != nil {
			item[m.Type] = m.Content
		}
		if m.ReplyTo != "" {
			item["context"] = map[string]string{"from": n.DisplayPhoneNumber, "id": m.ReplyTo}
		}
		items = append(items, item)
		if !seen[m.From] {
			seen[m.From] = true
			contacts = append(contacts, map[string]any{"profile": map[string]string{"name": m.Name}, "wa_id": m.From})
		}
	}
	return envelope(n, "messages", items, contacts)
}

// Inbound returns the webhook body for msgs sent to a registered number, stamped with the Clock.
func (s *Server) Inbound(phoneNumberID string, msgs ...InboundMessage) ([]byte, error) {
	n, ok := s.Number(phoneNumberID)
	if !ok {
		return nil, fmt.Errorf("graphtest: unknown phone number id %q", phoneNumberID)
	}
	return Envelope(n, s.opts.Clock(), msgs...), nil
}
