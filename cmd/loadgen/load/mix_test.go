package load

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"switchboard/whatsapp"
	"switchboard/whatsapp/graphtest"
)

var testNumber = graphtest.Number{PhoneNumberID: "106540352242922", DisplayPhoneNumber: "15550001234", WABAID: "102290129340398",
	Token: "EAAG-test", AppSecret: "secret"}

func TestParseMix(t *testing.T) {
	m, err := ParseMix(" text=70, media=10,interactive=8,reaction=7,location=5 ")
	if err != nil {
		t.Fatal(err)
	}
	if m[KindText] != 70 || m[KindMedia] != 10 || m[KindInteractive] != 8 || m[KindReaction] != 7 || m[KindLocation] != 5 || m.total() != 100 {
		t.Fatalf("parsed %v", m)
	}
	if m.String() != "text=70,media=10,interactive=8,reaction=7,location=5" {
		t.Fatalf("String() = %q", m.String())
	}
	again, err := ParseMix(DefaultMix.String())
	if err != nil || again.String() != DefaultMix.String() {
		t.Fatalf("round trip of the default mix: %v %v", again, err)
	}
	only, err := ParseMix("text=1")
	if err != nil || only.total() != 1 || only.String() != "text=1" {
		t.Fatalf("text only: %v %v", only, err)
	}
	for _, bad := range []string{"", "text", "text=x", "text=-1", "status=5", "video=3", "text=0,media=0"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
}

func TestMixPick(t *testing.T) {
	m := Mix{KindText: 2, KindMedia: 0, KindReaction: 1}
	want := []Kind{KindText, KindText, KindReaction}
	for x, k := range want {
		if got := m.pick(x); got != k {
			t.Fatalf("pick(%d) = %s, want %s", x, got, k)
		}
	}
}

// TestGeneratorMixProportions: over many webhooks each kind's share is its weight's share, within a
// few standard deviations of the binomial.
func TestGeneratorMixProportions(t *testing.T) {
	fake := graphtest.New(graphtest.Options{})
	defer fake.Close()
	g := NewGenerator(testNumber, Contacts(50, "4912"), DefaultMix, PutSampleMedia(fake, "88"), NewRing(16), 42)
	const n = 20000
	counts := map[Kind]int{}
	for range n {
		w := g.Next()
		if len(w.Kinds) != 1 || w.Messages != 1 {
			t.Fatalf("a default webhook carries one message: %+v", w.Kinds)
		}
		counts[w.Kinds[0]]++
	}
	total := float64(DefaultMix.total())
	for _, k := range customerKinds {
		p := float64(DefaultMix[k]) / total
		want := p * n
		sd := math.Sqrt(n * p * (1 - p))
		if got := float64(counts[k]); math.Abs(got-want) > 5*sd {
			t.Errorf("%s: %v of %d, want %.0f ± %.0f", k, got, n, want, 5*sd)
		}
	}
}

// TestGeneratorWebhooksParse: every generated webhook is one Meta could send: the real parser reads
// it, it carries the kind it claims, from a known contact, and tracks exactly the wamids that become
// messages (not reactions).
func TestGeneratorWebhooksParse(t *testing.T) {
	fake := graphtest.New(graphtest.Options{})
	defer fake.Close()
	media := PutSampleMedia(fake, "88")
	contacts := Contacts(20, "3361")
	known := map[string]string{}
	for _, c := range contacts {
		known[c.WaID] = c.Name
	}
	ring := NewRing(4)
	ring.Add("wamid.OURS1")
	g := NewGenerator(testNumber, contacts, Mix{KindText: 1, KindMedia: 1, KindInteractive: 1, KindReaction: 1, KindLocation: 1}, media, ring, 7)
	g.Batch = 3
	wantType := map[Kind][]string{KindText: {"text"}, KindMedia: {"image", "audio", "document", "sticker"},
		KindInteractive: {"interactive"}, KindReaction: {"reaction"}, KindLocation: {"location"}}
	seenType := map[string]bool{}
	for range 300 {
		w := g.Next()
		hook, err := whatsapp.ParseWebhook(w.Body)
		if err != nil {
			t.Fatalf("parse %s: %v", w.Body, err)
		}
		if len(hook.Changes) != 1 || len(hook.Changes[0].Messages) != 3 || w.Messages != 3 || len(w.Kinds) != 3 {
			t.Fatalf("a batch of 3: %s", w.Body)
		}
		c := hook.Changes[0]
		if c.PhoneNumberID != testNumber.PhoneNumberID {
			t.Fatalf("phone number id %q", c.PhoneNumberID)
		}
		var tracked []string
		for i, m := range c.Messages {
			if !strings.HasPrefix(m.ID, "wamid.") || known[m.From] == "" {
				t.Fatalf("message %+v", m)
			}
			if ct, ok := c.ContactFor(m); !ok || ct.Name != known[m.From] {
				t.Fatalf("contact of %s: %+v", m.From, ct)
			}
			ok := false
			for _, typ := range wantType[w.Kinds[i]] {
				ok = ok || m.Type == typ
			}
			if !ok {
				t.Fatalf("kind %s carried type %q", w.Kinds[i], m.Type)
			}
			seenType[m.Type] = true
			switch w.Kinds[i] {
			case KindReaction:
				if m.Reaction == nil || m.Reaction.MessageID == "" {
					t.Fatalf("reaction without a target: %s", m.Raw)
				}
				continue
			case KindMedia:
				if m.Media == nil || m.Media.ID == "" || m.Media.SHA256 == "" {
					t.Fatalf("media without id/sha256: %s", m.Raw)
				}
			case KindInteractive:
				if m.Context == nil || m.Context.ID == "" {
					t.Fatalf("a button or list reply answers one of our messages: %s", m.Raw)
				}
			}
			tracked = append(tracked, m.ID)
		}
		if strings.Join(tracked, ",") != strings.Join(w.Tracked, ",") {
			t.Fatalf("tracked %v, want %v", w.Tracked, tracked)
		}
	}
	for _, typ := range []string{"text", "image", "audio", "document", "sticker", "interactive", "reaction", "location"} {
		if !seenType[typ] {
			t.Errorf("no %s message in 900 draws", typ)
		}
	}
}

// TestReactionsTarget: reactions and taps refer to the business's messages when some are known, and
// otherwise a reaction targets the customer's own earlier message.
func TestReactionsTarget(t *testing.T) {
	contacts := Contacts(1, "4477")
	g := NewGenerator(testNumber, contacts, Mix{KindText: 1}, nil, NewRing(4), 3)
	first := g.Next()
	g.Mix = Mix{KindReaction: 1}
	hook, _ := whatsapp.ParseWebhook(g.Next().Body)
	if got := hook.Changes[0].Messages[0].Reaction.MessageID; got != first.Tracked[0] {
		t.Fatalf("reaction to %q, want the customer's own %q", got, first.Tracked[0])
	}
	g.Outbound.Add("wamid.BUSINESS")
	hook, _ = whatsapp.ParseWebhook(g.Next().Body)
	if got := hook.Changes[0].Messages[0].Reaction.MessageID; got != "wamid.BUSINESS" {
		t.Fatalf("reaction to %q, want the business message", got)
	}
	g.Mix = Mix{KindInteractive: 1}
	hook, _ = whatsapp.ParseWebhook(g.Next().Body)
	if got := hook.Changes[0].Messages[0].Context.ID; got != "wamid.BUSINESS" {
		t.Fatalf("button reply to %q", got)
	}
}

// TestGeneratorIsReproducible: the same seed gives the same payload choices.
func TestGeneratorIsReproducible(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	draw := func() []string {
		g := NewGenerator(testNumber, Contacts(30, "4915"), DefaultMix, nil, NewRing(4), 99)
		g.Now = func() time.Time { return at }
		var out []string
		for range 50 {
			hook, _ := whatsapp.ParseWebhook(g.Next().Body)
			m := hook.Changes[0].Messages[0]
			out = append(out, m.From+"/"+m.Type+"/"+m.Text)
		}
		return out
	}
	if a, b := draw(), draw(); strings.Join(a, "|") != strings.Join(b, "|") {
		t.Fatal("two generators with one seed differ")
	}
}

func TestStatusWebhook(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	for _, st := range []string{whatsapp.StatusSent, whatsapp.StatusDelivered, whatsapp.StatusRead} {
		w := StatusWebhook(testNumber, "wamid.X", "33612345678", st, at)
		if w.Statuses != 1 || w.Messages != 0 || len(w.Tracked) != 0 || w.Kinds[0] != KindStatus {
			t.Fatalf("%s: %+v", st, w)
		}
		hook, err := whatsapp.ParseWebhook(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		got := hook.Changes[0].Statuses
		if len(got) != 1 || got[0].ID != "wamid.X" || got[0].Status != st || got[0].RecipientID != "33612345678" || !got[0].Timestamp.Equal(at) {
			t.Fatalf("%s: parsed %+v", st, got)
		}
		var raw map[string]any
		json.Unmarshal(got[0].Raw, &raw)
		if _, priced := raw["pricing"]; priced != (st == whatsapp.StatusSent) {
			t.Fatalf("%s: pricing present = %v", st, priced)
		}
	}
}

func TestRing(t *testing.T) {
	r := NewRing(3)
	rng := rand.New(rand.NewPCG(1, 1))
	if r.Pick(rng) != "" {
		t.Fatal("an empty ring picks nothing")
	}
	for _, id := range []string{"a", "b", "c", "d"} {
		r.Add(id)
	}
	seen := map[string]bool{}
	for range 200 {
		seen[r.Pick(rng)] = true
	}
	if seen["a"] || !seen["b"] || !seen["c"] || !seen["d"] || len(seen) != 3 {
		t.Fatalf("picked %v; the oldest must be forgotten", seen)
	}
}

func TestContactsAreDistinct(t *testing.T) {
	cs := Contacts(5000, "4917")
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.WaID] || c.Name == "" || !strings.HasPrefix(c.WaID, "4917") {
			t.Fatalf("contact %+v", c)
		}
		seen[c.WaID] = true
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP switchboard_inbound_messages_total Customer messages stored.
# TYPE switchboard_inbound_messages_total counter
switchboard_inbound_messages_total 1234
switchboard_jobs_finished_total{kind="inbound",outcome="done"} 99
process_resident_memory_bytes 5.4321e+07
bad line
`
	m, err := ParseMetrics(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if m["switchboard_inbound_messages_total"] != 1234 || m[`switchboard_jobs_finished_total{kind="inbound",outcome="done"}`] != 99 ||
		m["process_resident_memory_bytes"] != 54321000 || len(m) != 3 {
		t.Fatalf("parsed %v", m)
	}
	before := map[string]float64{"switchboard_inbound_messages_total": 10}
	atEnd := map[string]float64{"switchboard_inbound_messages_total": 35}
	after := map[string]float64{"switchboard_inbound_messages_total": 50, "process_resident_memory_bytes": 7}
	if f := serverFigures(before, atEnd, after); f.StoredMessages != 25 || f.ResidentBytes != 7 {
		t.Fatalf("figures %+v", f)
	}
}
