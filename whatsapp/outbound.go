package whatsapp

import "strings"

// OutboundMessage is a message to send with Client.Send. Set To and exactly one content part: Text,
// Media, Template, Interactive or Reaction. It marshals to (and unmarshals from) the request body Meta
// documents for POST /{phone-number-id}/messages, so it can be stored as JSON and replayed.
type OutboundMessage struct {
	// To is the customer's wa_id. A leading "+" is added when missing (Meta prepends the business
	// number's country code to numbers without one); values that do not start with a digit, such as
	// BSUIDs, are sent as they are.
	To string
	// ReplyTo quotes an earlier message: context.message_id.
	ReplyTo string
	// BizOpaqueCallbackData is echoed in the status webhooks of this message (≤ 512 characters).
	BizOpaqueCallbackData string

	Text        *Text
	Media       *OutboundMedia
	Template    *TemplateMessage
	Interactive *Interactive
	Reaction    *OutboundReaction
}

// Text is a text message body.
type Text struct {
	// Body is 1–4096 characters.
	Body string
	// PreviewURL asks WhatsApp to render a preview of the first URL in Body.
	PreviewURL bool
}

// OutboundMedia is an image, video, audio, document or sticker, by uploaded media id or by link.
type OutboundMedia struct {
	// Type is image, video, audio, document or sticker.
	Type string
	// ID is an uploaded media id; Link an http(s) URL. Set exactly one.
	ID   string
	Link string
	// Caption is allowed on image, video and document (≤ 1024 characters).
	Caption string
	// Filename is allowed on document.
	Filename string
}

// OutboundReaction reacts to a message; an empty Emoji removes our reaction.
type OutboundReaction struct {
	MessageID string
	Emoji     string
}

// TemplateMessage sends an approved template. The language policy is always "deterministic".
type TemplateMessage struct {
	Name string
	// Language is the template's language code, e.g. "en_US".
	Language   string
	Components []TemplateComponentParams
}

// Template component types (TemplateComponentParams.Type) and button sub-types.
const (
	ComponentHeader = "header"
	ComponentBody   = "body"
	ComponentButton = "button"

	ButtonQuickReply = "quick_reply"
	ButtonURL        = "url"
)

// TemplateComponentParams fills the variables of one template component.
type TemplateComponentParams struct {
	// Type is header, body or button.
	Type string
	// SubType is required for buttons: quick_reply, url, catalog, copy_code, flow, ...
	SubType string
	// Index is the button's position (0–9); used only for buttons.
	Index      int
	Parameters []TemplateParameter
}

// TemplateParameter is one variable value. Set Type and the matching field; templates whose
// parameter_format is NAMED also need ParameterName on every parameter. It marshals as Meta's
// parameter object.
type TemplateParameter struct {
	// Type is text, currency, date_time, image, video, document (components) or payload/text (buttons).
	Type          string             `json:"type"`
	ParameterName string             `json:"parameter_name,omitempty"`
	Text          string             `json:"text,omitempty"`
	Payload       string             `json:"payload,omitempty"`
	Currency      *CurrencyParameter `json:"currency,omitempty"`
	DateTime      *DateTimeParameter `json:"date_time,omitempty"`
	Image         *MediaRef          `json:"image,omitempty"`
	Video         *MediaRef          `json:"video,omitempty"`
	Document      *MediaRef          `json:"document,omitempty"`
}

// CurrencyParameter is a localisable amount: Amount1000 is the amount times 1000.
type CurrencyParameter struct {
	FallbackValue string `json:"fallback_value"`
	Code          string `json:"code"`
	Amount1000    int64  `json:"amount_1000"`
}

// DateTimeParameter is a date; the Cloud API always shows FallbackValue.
type DateTimeParameter struct {
	FallbackValue string `json:"fallback_value"`
}

// MediaRef points at media by uploaded id or link (Filename only for documents).
type MediaRef struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// TextParam returns a positional text parameter ({{1}}, {{2}}, ...).
func TextParam(text string) TemplateParameter {
	return TemplateParameter{Type: "text", Text: text}
}

// NamedTextParam returns a text parameter for a template with parameter_format NAMED ({{name}}).
func NamedTextParam(name, text string) TemplateParameter {
	return TemplateParameter{Type: "text", ParameterName: name, Text: text}
}

// PayloadParam returns the payload parameter of a quick-reply button, echoed back when it is tapped.
func PayloadParam(payload string) TemplateParameter {
	return TemplateParameter{Type: "payload", Payload: payload}
}

// Interactive types OutboundMessage can send.
const (
	InteractiveButtons = "button"
	InteractiveList    = "list"
)

// Interactive is a reply-buttons message (Type "button": Buttons) or a list message (Type "list":
// ListButton and Sections).
type Interactive struct {
	Type string
	// Header is optional: text (≤ 60 characters) for both; image, video or document for buttons.
	Header *InteractiveHeader
	// Body is required, ≤ 1024 characters.
	Body string
	// Footer is optional, ≤ 60 characters.
	Footer string
	// Buttons are 1–3 reply buttons with unique, non-empty titles ≤ 20 characters.
	Buttons []ReplyButton
	// ListButton is the label of the button that opens the list (≤ 20 characters).
	ListButton string
	// Sections are 1–10, with at most 10 rows in total; titles (≤ 24) are required when there are
	// several.
	Sections []ListSection
}

// InteractiveHeader is the header of an interactive message: Type text with Text, or image, video or
// document with Media.
type InteractiveHeader struct {
	Type  string
	Text  string
	Media *MediaRef
}

// ReplyButton is one reply button: ID (≤ 256, no edge spaces) comes back in the button_reply.
type ReplyButton struct {
	ID    string
	Title string
}

// ListSection groups rows of a list message.
type ListSection struct {
	Title string
	Rows  []ListRow
}

// ListRow is one choice of a list: ID ≤ 200, Title ≤ 24, Description ≤ 72 characters.
type ListRow struct {
	ID          string
	Title       string
	Description string
}

// Type returns the Meta message type the content part makes ("text", "image", "template", ...), or ""
// when no part is set.
func (m OutboundMessage) Type() string {
	switch {
	case m.Text != nil:
		return "text"
	case m.Media != nil:
		return m.Media.Type
	case m.Template != nil:
		return "template"
	case m.Interactive != nil:
		return "interactive"
	case m.Reaction != nil:
		return "reaction"
	}
	return ""
}

// Recipient returns To as it goes on the wire: with a leading "+" when it is a phone number.
func (m OutboundMessage) Recipient() string {
	to := strings.TrimSpace(m.To)
	if to != "" && to[0] >= '0' && to[0] <= '9' {
		return "+" + to
	}
	return to
}
