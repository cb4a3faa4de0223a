package whatsapp

import (
	"encoding/json"
	"time"
)

// Inbound message types (messages[].type) documented by Meta. Any other value is kept as sent in
// Message.Type, so new types reach the inbox as "something arrived" rather than being dropped.
const (
	TypeText        = "text"
	TypeImage       = "image"
	TypeAudio       = "audio"
	TypeVideo       = "video"
	TypeDocument    = "document"
	TypeSticker     = "sticker"
	TypeLocation    = "location"
	TypeContacts    = "contacts"
	TypeInteractive = "interactive"
	TypeButton      = "button"
	TypeReaction    = "reaction"
	TypeOrder       = "order"
	TypeSystem      = "system"
	TypeUnsupported = "unsupported"
	TypeUnknown     = "unknown"
	TypeRevoke      = "revoke"
)

// Message is one inbound messages[] item, normalised across types. Exactly the part named by Type is
// set (Media for image/audio/video/document/sticker, Location, SharedContacts, Interactive, Button,
// Reaction, Order, System, Revoke); Text is always something an inbox can show when one makes sense.
type Message struct {
	// ID is the wamid, globally unique: the idempotency key of the message.
	ID string
	// From is the sender's wa_id (digits, no "+"); for system messages, the old number.
	From string
	// FromUserID is the sender's BSUID when Meta sends one.
	FromUserID string
	// Timestamp is the message's own unix-seconds timestamp in UTC (zero when missing).
	Timestamp time.Time
	// Type is messages[].type as sent.
	Type string
	// Text is the text body, a media caption, the tapped button or row title, a template quick
	// reply's text, a Flow reply's body, or a readable summary of a location, contact card, order or
	// system change.
	Text           string
	Media          *Media
	Location       *Location
	SharedContacts []SharedContact
	Interactive    *InteractiveReply
	Button         *ButtonReply
	Reaction       *Reaction
	Context        *Context
	Referral       *Referral
	Order          *Order
	System         *SystemChange
	Revoke         *Revoke
	// UnsupportedType is unsupported.type when Meta names what it could not deliver (e.g. "poll").
	UnsupportedType string
	// Errors are the message's own errors (131051 unsupported, 131052 media download, ...).
	Errors []Error
	// Raw is the original messages[] item.
	Raw json.RawMessage
}

// Media is an inbound image, audio, video, document or sticker.
type Media struct {
	// ID is the media id for GET /{media-id}; webhook ids expire after 7 days.
	ID       string
	MimeType string
	// SHA256 is the base64 digest of the file as Meta sends it.
	SHA256   string
	Filename string
	Caption  string
	// Voice marks an audio recorded as a voice note.
	Voice bool
	// Animated marks an animated sticker.
	Animated bool
	// URL is a direct download URL that Meta has been adding since late 2025; it may be absent.
	URL string
}

// Location is a shared location or dropped pin (name and address are often missing).
type Location struct {
	Latitude  float64
	Longitude float64
	Name      string
	Address   string
	URL       string
}

// SharedContact is one vCard-like contact card of a "contacts" message; any part may be missing.
type SharedContact struct {
	Name      ContactName
	Phones    []ContactPhone
	Emails    []ContactEmail
	Addresses []ContactAddress
	URLs      []ContactURL
	Org       ContactOrg
	Birthday  string
}

// ContactName is the name of a shared contact card.
type ContactName struct {
	FormattedName, FirstName, LastName, MiddleName, Prefix, Suffix string
}

// ContactPhone is a phone number of a shared contact; WaID is set when the number is on WhatsApp.
type ContactPhone struct {
	Phone, WaID, Type string
}

// ContactEmail is an email address of a shared contact.
type ContactEmail struct {
	Email, Type string
}

// ContactAddress is a postal address of a shared contact.
type ContactAddress struct {
	Street, City, State, Zip, Country, CountryCode, Type string
}

// ContactURL is a website of a shared contact.
type ContactURL struct {
	URL, Type string
}

// ContactOrg is the organisation of a shared contact.
type ContactOrg struct {
	Company, Department, Title string
}

// Interactive reply kinds (interactive.type).
const (
	InteractiveButtonReply = "button_reply"
	InteractiveListReply   = "list_reply"
	InteractiveFlowReply   = "nfm_reply"
)

// InteractiveReply is the user's answer to an interactive message we sent: a reply button, a list row
// or a completed Flow (nfm_reply).
type InteractiveReply struct {
	// Type is button_reply, list_reply or nfm_reply (or any new value, kept as sent).
	Type        string
	ID          string
	Title       string
	Description string
	// FlowName, FlowBody and FlowResponseJSON are the nfm_reply name, body and response_json (the
	// JSON text of the Flow's answers).
	FlowName         string
	FlowBody         string
	FlowResponseJSON string
}

// ButtonReply is a quick-reply tap on a template message.
type ButtonReply struct {
	Payload string
	Text    string
}

// Reaction is an emoji reaction to a message we sent. Removed is true when the user took the reaction
// back: Meta then omits emoji (current) or sends "" (older versions).
type Reaction struct {
	MessageID string
	Emoji     string
	Removed   bool
}

// Context links a message to another: a reply quotes ID (sent by From), a forwarded message carries the
// flags, a product enquiry names the product.
type Context struct {
	From                string
	ID                  string
	Forwarded           bool
	FrequentlyForwarded bool
	ReferredProduct     *ReferredProduct
}

// ReferredProduct is the catalog product a "Message business" enquiry is about.
type ReferredProduct struct {
	CatalogID         string
	ProductRetailerID string
}

// Referral describes the Click-to-WhatsApp ad or post the user came from.
type Referral struct {
	SourceURL      string
	SourceID       string
	SourceType     string
	Body           string
	Headline       string
	MediaType      string
	ImageURL       string
	VideoURL       string
	ThumbnailURL   string
	CTWAClid       string
	WelcomeMessage string
}

// Order is a cart the user sent from a catalog.
type Order struct {
	CatalogID string
	Text      string
	Items     []OrderItem
}

// OrderItem is one product line of an Order.
type OrderItem struct {
	ProductRetailerID string
	Quantity          int
	ItemPrice         float64
	Currency          string
}

// System message kinds. Meta has used three spellings over the years; all are accepted.
const (
	SystemUserChangedNumber       = "user_changed_number"
	SystemCustomerChangedNumber   = "customer_changed_number"
	SystemCustomerIdentityChanged = "customer_identity_changed"
)

// SystemChange is a system message: the user changed number (NewWaID is the new id, Message.From the
// old one) or their security code changed.
type SystemChange struct {
	Type     string
	Body     string
	NewWaID  string
	Customer string
	Identity string
}

// Revoke says the user deleted an earlier message (coexistence numbers only).
type Revoke struct {
	OriginalMessageID string
}
