package load

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"switchboard/whatsapp"
	"switchboard/whatsapp/graphtest"
)

// Kind is a kind of webhook the generator plays.
type Kind string

// The customer message kinds of a mix, and the status webhooks that follow outbound messages.
const (
	KindText        Kind = "text"
	KindMedia       Kind = "media"
	KindInteractive Kind = "interactive"
	KindReaction    Kind = "reaction"
	KindLocation    Kind = "location"
	KindStatus      Kind = "status"
)

// customerKinds are the kinds a mix may weigh, in a fixed order (reports and parsing).
var customerKinds = []Kind{KindText, KindMedia, KindInteractive, KindReaction, KindLocation}

// Mix weighs the customer message kinds; a kind's share is its weight over the total.
type Mix map[Kind]int

// DefaultMix is what a support inbox sees: mostly text, some photos, voice notes and documents, taps
// on buttons and lists, reactions and the odd shared location.
var DefaultMix = Mix{KindText: 72, KindMedia: 10, KindInteractive: 8, KindReaction: 6, KindLocation: 4}

// ParseMix reads "text=70,media=10,...": every named kind must be a customer kind with a
// non-negative integer weight, and the weights must not all be zero. Kinds left out weigh 0.
func ParseMix(s string) (Mix, error) {
	m := Mix{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("mix: %q is not kind=weight", part)
		}
		k := Kind(strings.TrimSpace(name))
		if !slices.Contains(customerKinds, k) {
			return nil, fmt.Errorf("mix: unknown kind %q (use %s)", k, kindList())
		}
		w, err := strconv.Atoi(strings.TrimSpace(val))
		if err != nil || w < 0 {
			return nil, fmt.Errorf("mix: weight of %s must be a non-negative integer", k)
		}
		m[k] = w
	}
	if m.total() == 0 {
		return nil, fmt.Errorf("mix: at least one weight must be positive")
	}
	return m, nil
}

func kindList() string {
	names := make([]string, len(customerKinds))
	for i, k := range customerKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

func (m Mix) total() int {
	t := 0
	for _, k := range customerKinds {
		t += max(m[k], 0)
	}
	return t
}

// String renders the mix as ParseMix reads it.
func (m Mix) String() string {
	var parts []string
	for _, k := range customerKinds {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	return strings.Join(parts, ",")
}

// pick returns the kind that a uniform draw x in [0, total) falls on.
func (m Mix) pick(x int) Kind {
	for _, k := range customerKinds {
		w := max(m[k], 0)
		if x < w {
			return k
		}
		x -= w
	}
	return KindText
}

// Contact is one customer of the load.
type Contact struct {
	WaID string
	Name string
}

// Contacts returns k customers with distinct WhatsApp ids under a run prefix, so separate runs on one
// database do not share contacts unless they share the prefix.
func Contacts(k int, prefix string) []Contact {
	out := make([]Contact, k)
	for i := range out {
		out[i] = Contact{WaID: fmt.Sprintf("%s%07d", prefix, i), Name: firstNames[i%len(firstNames)] + " " + lastNames[(i/len(firstNames))%len(lastNames)]}
	}
	return out
}

var firstNames = []string{"Marie", "Lena", "Sam", "John", "Aisha", "Carlos", "Yuki", "Priya", "Olu", "Sofia", "Mateo", "Ines", "Noah", "Fatima", "Lucas", "Chen"}
var lastNames = []string{"Dubois", "Schmidt", "Okafor", "Garcia", "Tanaka", "Sharma", "Rossi", "Silva", "Novak", "Haddad", "Kim", "Jensen"}

var texts = []string{
	"Hi, where is my order? It was supposed to arrive yesterday.",
	"Bonjour, ma commande n'est toujours pas arrivée.",
	"Hallo, kann ich meine Lieferadresse noch ändern?",
	"Can I get a refund for the damaged item?",
	"Hola, ¿tienen este modelo en talla M?",
	"Thanks, that solved it!",
	"The tracking link does not work for me",
	"I was charged twice for the same order 😕",
	"Do you ship to Portugal?",
	"ok",
	"What time do you open tomorrow?",
	"My code is 48213, the app says it expired",
	"Olá, preciso de ajuda com a minha assinatura.",
	"Can someone call me back please?",
	"I'd like to change my delivery slot to Friday afternoon, is that possible? My order number is 100-2231-77.",
	"👍",
}

// MediaRef is a file the fake Graph API serves, referenced by customers' media messages.
type MediaRef struct {
	Kind     string
	ID       string
	MimeType string
	SHA256   string
	Filename string
	Voice    bool
	Caption  string
}

// sampleMedia are small files with real magic numbers: a photo, a voice note, a PDF and a sticker.
var sampleMedia = []struct {
	kind, mime, filename, caption string
	voice                         bool
	data                          []byte
}{
	{"image", "image/jpeg", "", "This is what arrived", false, append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, make([]byte, 2048)...)},
	{"audio", "audio/ogg", "", "", true, append([]byte("OggS\x00\x02"), make([]byte, 4096)...)},
	{"document", "application/pdf", "invoice-2231.pdf", "My invoice", false, append([]byte("%PDF-1.4\n"), make([]byte, 3072)...)},
	{"sticker", "image/webp", "", "", false, append([]byte("RIFF\x00\x10\x00\x00WEBPVP8 "), make([]byte, 1024)...)},
}

// PutSampleMedia stores the sample files in the fake under ids made from prefix and returns them.
func PutSampleMedia(fake *graphtest.Server, prefix string) []MediaRef {
	out := make([]MediaRef, len(sampleMedia))
	for i, m := range sampleMedia {
		id := fmt.Sprintf("%s%02d", prefix, i)
		out[i] = MediaRef{Kind: m.kind, ID: id, MimeType: m.mime, SHA256: fake.PutMedia(id, m.mime, m.data),
			Filename: m.filename, Voice: m.voice, Caption: m.caption}
	}
	return out
}

// Ring remembers the latest wamids of the business's messages, for reactions and button taps that
// refer to them. It is safe for concurrent use.
type Ring struct {
	mu   sync.Mutex
	ids  []string
	next int
}

// NewRing returns a ring holding up to n wamids.
func NewRing(n int) *Ring { return &Ring{ids: make([]string, 0, n)} }

// Add remembers id, forgetting the oldest when full.
func (r *Ring) Add(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) < cap(r.ids) {
		r.ids = append(r.ids, id)
		return
	}
	r.ids[r.next] = id
	r.next = (r.next + 1) % len(r.ids)
}

// Pick returns a remembered wamid chosen with rng, or "" when the ring is empty.
func (r *Ring) Pick(rng *rand.Rand) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) == 0 {
		return ""
	}
	return r.ids[rng.IntN(len(r.ids))]
}

// Webhook is one signed-to-be POST body with what it carries.
type Webhook struct {
	Body []byte
	// Kinds lists the kind of each item; Messages counts the customer message items (reactions
	// included), Statuses the status items.
	Kinds    []Kind
	Messages int
	Statuses int
	// Tracked are the wamids that become messages on the agents' screens (message.created); reactions
	// only update a message and are not tracked.
	Tracked []string
	// Attempts counts deliveries of this body (retries resend the same bytes, as Meta does).
	Attempts int
}

// Generator builds realistic webhooks for one business number. Each sender owns one (it is not safe
// for concurrent use); the Ring of outbound wamids is shared.
type Generator struct {
	Number   graphtest.Number
	Contacts []Contact
	Mix      Mix
	Media    []MediaRef
	Outbound *Ring
	// Batch is how many customer messages one webhook carries (Meta usually sends one).
	Batch int
	Now   func() time.Time
	rng   *rand.Rand
	// lastInbound remembers a recent inbound wamid per contact index, so a reaction with no business
	// message to react to can target the customer's own message, as WhatsApp allows.
	lastInbound map[int]string
}

// NewGenerator returns a generator drawing from a seeded source, so a run can be replayed.
func NewGenerator(n graphtest.Number, contacts []Contact, mix Mix, media []MediaRef, outbound *Ring, seed uint64) *Generator {
	return &Generator{Number: n, Contacts: contacts, Mix: mix, Media: media, Outbound: outbound, Batch: 1,
		Now: time.Now, rng: rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15)), lastInbound: map[int]string{}}
}

// Next returns the next customer webhook.
func (g *Generator) Next() *Webhook {
	w := &Webhook{}
	msgs := make([]graphtest.InboundMessage, 0, max(g.Batch, 1))
	for range max(g.Batch, 1) {
		ci := g.rng.IntN(len(g.Contacts))
		k := g.Mix.pick(g.rng.IntN(g.Mix.total()))
		m := g.message(k, ci)
		msgs = append(msgs, m)
		w.Kinds = append(w.Kinds, k)
		w.Messages++
		if k != KindReaction {
			w.Tracked = append(w.Tracked, m.ID)
			g.lastInbound[ci] = m.ID
		}
	}
	w.Body = graphtest.Envelope(g.Number, g.Now(), msgs...)
	return w
}

// message builds one customer message of kind k from contact ci.
func (g *Generator) message(k Kind, ci int) graphtest.InboundMessage {
	c := g.Contacts[ci]
	switch k {
	case KindMedia:
		if len(g.Media) > 0 {
			m := g.Media[g.rng.IntN(len(g.Media))]
			return graphtest.MediaMessage(c.WaID, c.Name, graphtest.InboundMedia{Kind: m.Kind, ID: m.ID, MimeType: m.MimeType,
				SHA256: m.SHA256, Caption: m.Caption, Filename: m.Filename, Voice: m.Voice})
		}
	case KindInteractive:
		ctx := g.Outbound.Pick(g.rng)
		if ctx == "" {
			ctx = graphtest.NewMessageID() // a message of ours from before the run
		}
		if g.rng.IntN(2) == 0 {
			opts := [][2]string{{"order_status", "Where is my order?"}, {"talk_to_agent", "Talk to an agent"}, {"returns", "Returns"}}
			o := opts[g.rng.IntN(len(opts))]
			return graphtest.ButtonReply(c.WaID, c.Name, ctx, o[0], o[1])
		}
		rows := [][3]string{{"slot_am", "Morning", "8:00–12:00"}, {"slot_pm", "Afternoon", "12:00–18:00"}, {"slot_eve", "Evening", "18:00–21:00"}}
		r := rows[g.rng.IntN(len(rows))]
		return graphtest.ListReply(c.WaID, c.Name, ctx, r[0], r[1], r[2])
	case KindReaction:
		target := g.Outbound.Pick(g.rng)
		if target == "" {
			target = g.lastInbound[ci]
		}
		if target == "" {
			target = graphtest.NewMessageID()
		}
		emojis := []string{"👍", "❤️", "😂", "🙏", "😮", ""}
		return graphtest.Reaction(c.WaID, c.Name, target, emojis[g.rng.IntN(len(emojis))])
	case KindLocation:
		places := [][4]string{{"48.8584", "2.2945", "Eiffel Tower", "Champ de Mars, Paris"}, {"52.5163", "13.3777", "", ""},
			{"40.4168", "-3.7038", "Puerta del Sol", "Madrid"}}
		p := places[g.rng.IntN(len(places))]
		lat, _ := strconv.ParseFloat(p[0], 64)
		lon, _ := strconv.ParseFloat(p[1], 64)
		return graphtest.Location(c.WaID, c.Name, lat, lon, p[2], p[3])
	}
	return graphtest.TextMessage(c.WaID, c.Name, texts[g.rng.IntN(len(texts))])
}

// StatusWebhook is the webhook Meta posts when an outbound message (wamid, to recipient) reaches
// status: sent, delivered or read, with pricing on sent as Meta documents it.
func StatusWebhook(n graphtest.Number, wamid, recipient, status string, at time.Time) *Webhook {
	item := map[string]any{"id": wamid, "status": status, "timestamp": strconv.FormatInt(at.Unix(), 10), "recipient_id": recipient}
	if status == whatsapp.StatusSent {
		item["pricing"] = map[string]any{"billable": false, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}
	}
	value := map[string]any{
		"messaging_product": "whatsapp",
		"metadata":          map[string]string{"display_phone_number": n.DisplayPhoneNumber, "phone_number_id": n.PhoneNumberID},
		"statuses":          []any{item},
	}
	body, _ := json.Marshal(map[string]any{
		"object": whatsapp.ObjectWhatsApp,
		"entry":  []any{map[string]any{"id": n.WABAID, "changes": []any{map[string]any{"value": value, "field": "messages"}}}},
	})
	return &Webhook{Body: body, Kinds: []Kind{KindStatus}, Statuses: 1}
}

// kindCounts tallies kinds for the report, in the fixed order.
func kindCounts(c map[string]int64) []KindCount {
	var out []KindCount
	for _, k := range append(slices.Clone(customerKinds), KindStatus) {
		if n := c[string(k)]; n > 0 {
			out = append(out, KindCount{Kind: string(k), Count: n})
		}
	}
	var extra []string
	for k := range c {
		if !slices.Contains(customerKinds, Kind(k)) && Kind(k) != KindStatus {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		out = append(out, KindCount{Kind: k, Count: c[k]})
	}
	return out
}

// KindCount is one line of the acknowledged-items-by-kind report.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int64  `json:"count"`
}
