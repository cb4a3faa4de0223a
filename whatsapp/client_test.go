package whatsapp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
)

// recorded is one request a test server received.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// graphStub is an httptest server that records requests and answers with a fixed status and body.
type graphStub struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	status   int
	answer   string
}

func newGraphStub(t *testing.T, status int, answer string) *graphStub {
	t.Helper()
	s := &graphStub{status: status, answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.requests = append(s.requests, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		status, answer := s.status, s.answer
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *graphStub) client() *Client {
	return NewClient(ClientOptions{HTTPClient: s.Client(), BaseURL: s.URL + "/", Version: "v25.0"})
}

func (s *graphStub) calls() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.requests...)
}

func (s *graphStub) last(t *testing.T) recorded {
	t.Helper()
	calls := s.calls()
	if len(calls) == 0 {
		t.Fatal("no request reached the server")
	}
	return calls[len(calls)-1]
}

// assertJSON compares two JSON documents by value, ignoring key order and spacing.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("JSON mismatch\n got: %s\nwant: %s", got, want)
	}
}

func TestNewClientDefaults(t *testing.T) {
	c := NewClient(ClientOptions{})
	if c.base != DefaultBaseURL || c.version != DefaultVersion || c.hc == nil || c.hc.Timeout == 0 {
		t.Errorf("defaults = %q %q %v", c.base, c.version, c.hc)
	}
	c = NewClient(ClientOptions{BaseURL: "http://fake.local/sandbox/graph/", Version: "/v23.0/"})
	if got := c.endpoint("123", "messages"); got != "http://fake.local/sandbox/graph/v23.0/123/messages" {
		t.Errorf("endpoint = %s", got)
	}
	if got := c.endpoint("a/b?c"); got != "http://fake.local/sandbox/graph/v23.0/a%2Fb%3Fc" {
		t.Errorf("endpoint escaping = %s", got)
	}
	for link, want := range map[string]bool{
		"http://fake.local/sandbox/graph/v23.0/1/message_templates?after=x": true,
		"http://FAKE.local/sandbox/graph/v23.0/1":                           true,
		"https://fake.local/sandbox/graph/v23.0/1":                          false,
		"http://evil.example/sandbox/graph/v23.0/1":                         false,
		"http://fake.local/other/v23.0/1":                                   false,
		"::":                                                                false,
	} {
		if got := c.sameOrigin(link); got != want {
			t.Errorf("sameOrigin(%q) = %v, want %v", link, got, want)
		}
	}
}

func TestMarkRead(t *testing.T) {
	tests := []struct {
		typing bool
		want   string
	}{
		{false, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.IN1"}`},
		{true, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.IN1","typing_indicator":{"type":"text"}}`},
	}
	for _, tt := range tests {
		stub := newGraphStub(t, 200, `{"success":true}`)
		if err := stub.client().MarkRead(t.Context(), "tok", "109876543210987", "wamid.IN1", tt.typing); err != nil {
			t.Fatalf("MarkRead: %v", err)
		}
		r := stub.last(t)
		if r.Method != http.MethodPost || r.Path != "/v25.0/109876543210987/messages" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("request = %s %s auth %q", r.Method, r.Path, r.Header.Get("Authorization"))
		}
		assertJSON(t, r.Body, tt.want)
	}
	stub := newGraphStub(t, 200, `{"success":false}`)
	if err := stub.client().MarkRead(t.Context(), "tok", "1", "wamid.X", false); err == nil {
		t.Error("success=false was not an error")
	}
	if err := stub.client().MarkRead(t.Context(), "tok", "1", "", false); err == nil || len(stub.calls()) != 1 {
		t.Errorf("empty wamid: err %v, calls %d", err, len(stub.calls()))
	}
}

const sendAnswer = `{"messaging_product":"whatsapp","contacts":[{"input":"+4915112345678","wa_id":"4915112345678"}],` +
	`"messages":[{"id":"wamid.OUT1","message_status":"accepted"}]}`

// sendCases pair an OutboundMessage with the exact body Meta documents for it.
var sendCases = []struct {
	name string
	msg  OutboundMessage
	want string
}{
	{"text with reply context and callback data", OutboundMessage{
		To: "4915112345678", ReplyTo: "wamid.IN1", BizOpaqueCallbackData: "msg-8812",
		Text: &Text{Body: "See https://example.com/track", PreviewURL: true},
	}, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"text",
		"text":{"body":"See https://example.com/track","preview_url":true},
		"context":{"message_id":"wamid.IN1"},"biz_opaque_callback_data":"msg-8812"}`},
	{"text keeps an existing plus", OutboundMessage{To: "+4915112345678", Text: &Text{Body: "Hi"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"text",
		"text":{"body":"Hi","preview_url":false}}`},
	{"text to a BSUID", OutboundMessage{To: "DE.1349120865530274", Text: &Text{Body: "Hi"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"DE.1349120865530274","type":"text",
		"text":{"body":"Hi","preview_url":false}}`},
	{"image by id with caption", OutboundMessage{To: "4915112345678",
		Media: &OutboundMedia{Type: "image", ID: "1840039204551234", Caption: "Your label"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"image",
		"image":{"id":"1840039204551234","caption":"Your label"}}`},
	{"document by link with filename", OutboundMessage{To: "4915112345678",
		Media: &OutboundMedia{Type: "document", Link: "https://files.example.com/inv.pdf", Filename: "invoice.pdf", Caption: "Invoice"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"document",
		"document":{"link":"https://files.example.com/inv.pdf","caption":"Invoice","filename":"invoice.pdf"}}`},
	{"audio by id", OutboundMessage{To: "4915112345678", Media: &OutboundMedia{Type: "audio", ID: "2210"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"audio","audio":{"id":"2210"}}`},
	{"video by link", OutboundMessage{To: "4915112345678", Media: &OutboundMedia{Type: "video", Link: "https://v.example.com/a.mp4", Caption: "Demo"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"video",
		"video":{"link":"https://v.example.com/a.mp4","caption":"Demo"}}`},
	{"sticker by id", OutboundMessage{To: "4915112345678", Media: &OutboundMedia{Type: "sticker", ID: "5510"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"sticker","sticker":{"id":"5510"}}`},
	{"template positional", OutboundMessage{To: "4915112345678", Template: &TemplateMessage{
		Name: "order_shipped", Language: "en_US", Components: []TemplateComponentParams{
			{Type: "header", Parameters: []TemplateParameter{{Type: "image", Image: &MediaRef{Link: "https://img.example.com/box.jpg"}}}},
			{Type: "body", Parameters: []TemplateParameter{
				TextParam("Lena"),
				{Type: "currency", Currency: &CurrencyParameter{FallbackValue: "€24.90", Code: "EUR", Amount1000: 24900}},
				{Type: "date_time", DateTime: &DateTimeParameter{FallbackValue: "May 2, 2026"}},
			}},
			{Type: "button", SubType: "quick_reply", Index: 0, Parameters: []TemplateParameter{PayloadParam("TRACK")}},
			{Type: "button", SubType: "url", Index: 1, Parameters: []TemplateParameter{TextParam("A1B2C3")}},
		}}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"template",
		"template":{"name":"order_shipped","language":{"code":"en_US","policy":"deterministic"},"components":[
			{"type":"header","parameters":[{"type":"image","image":{"link":"https://img.example.com/box.jpg"}}]},
			{"type":"body","parameters":[{"type":"text","text":"Lena"},
				{"type":"currency","currency":{"fallback_value":"€24.90","code":"EUR","amount_1000":24900}},
				{"type":"date_time","date_time":{"fallback_value":"May 2, 2026"}}]},
			{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"TRACK"}]},
			{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"A1B2C3"}]}]}}`},
	{"template named without components", OutboundMessage{To: "4915112345678", Template: &TemplateMessage{
		Name: "welcome", Language: "de", Components: []TemplateComponentParams{
			{Type: "body", Parameters: []TemplateParameter{NamedTextParam("first_name", "Lena"), NamedTextParam("order_id", "4711")}},
		}}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"template",
		"template":{"name":"welcome","language":{"code":"de","policy":"deterministic"},"components":[
			{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Lena"},
				{"type":"text","parameter_name":"order_id","text":"4711"}]}]}}`},
	{"reply buttons with text header and footer", OutboundMessage{To: "4915112345678", Interactive: &Interactive{
		Type: "button", Header: &InteractiveHeader{Type: "text", Text: "Delivery"}, Body: "Shall we deliver tomorrow?",
		Footer: "Reply within 24 h", Buttons: []ReplyButton{{"yes", "Yes"}, {"no", "No"}, {"later", "Ask me later"}},
	}}, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"interactive",
		"interactive":{"type":"button","header":{"type":"text","text":"Delivery"},"body":{"text":"Shall we deliver tomorrow?"},
		"footer":{"text":"Reply within 24 h"},"action":{"buttons":[
			{"type":"reply","reply":{"id":"yes","title":"Yes"}},{"type":"reply","reply":{"id":"no","title":"No"}},
			{"type":"reply","reply":{"id":"later","title":"Ask me later"}}]}}}`},
	{"reply buttons with image header", OutboundMessage{To: "4915112345678", Interactive: &Interactive{
		Type: "button", Header: &InteractiveHeader{Type: "image", Media: &MediaRef{ID: "1840"}}, Body: "Is this yours?",
		Buttons: []ReplyButton{{"mine", "Mine"}},
	}}, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"interactive",
		"interactive":{"type":"button","header":{"type":"image","image":{"id":"1840"}},"body":{"text":"Is this yours?"},
		"action":{"buttons":[{"type":"reply","reply":{"id":"mine","title":"Mine"}}]}}}`},
	{"list with two sections", OutboundMessage{To: "4915112345678", ReplyTo: "wamid.IN2", Interactive: &Interactive{
		Type: "list", Body: "Pick a slot", ListButton: "Slots", Sections: []ListSection{
			{Title: "Tomorrow", Rows: []ListRow{{"t_am", "Morning", "8-12"}, {"t_pm", "Afternoon", ""}}},
			{Title: "Friday", Rows: []ListRow{{"f_am", "Morning", "8-12"}}},
		},
	}}, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"interactive",
		"interactive":{"type":"list","body":{"text":"Pick a slot"},"action":{"button":"Slots","sections":[
			{"title":"Tomorrow","rows":[{"id":"t_am","title":"Morning","description":"8-12"},{"id":"t_pm","title":"Afternoon"}]},
			{"title":"Friday","rows":[{"id":"f_am","title":"Morning","description":"8-12"}]}]}},
		"context":{"message_id":"wamid.IN2"}}`},
	{"reaction", OutboundMessage{To: "4915112345678", Reaction: &OutboundReaction{MessageID: "wamid.IN1", Emoji: "👍"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"reaction",
		"reaction":{"message_id":"wamid.IN1","emoji":"👍"}}`},
	{"reaction removal keeps the empty emoji", OutboundMessage{To: "4915112345678", Reaction: &OutboundReaction{MessageID: "wamid.IN1"}},
		`{"messaging_product":"whatsapp","recipient_type":"individual","to":"+4915112345678","type":"reaction",
		"reaction":{"message_id":"wamid.IN1","emoji":""}}`},
}

func TestSendBodies(t *testing.T) {
	for _, tt := range sendCases {
		t.Run(tt.name, func(t *testing.T) {
			stub := newGraphStub(t, http.StatusOK, sendAnswer)
			res, err := stub.client().Send(t.Context(), "EAAG-token", "109876543210987", tt.msg)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			want := SendResult{MessageID: "wamid.OUT1", WaID: "4915112345678", Input: "+4915112345678", MessageStatus: "accepted"}
			if res != want {
				t.Errorf("result = %+v, want %+v", res, want)
			}
			r := stub.last(t)
			if r.Method != http.MethodPost || r.Path != "/v25.0/109876543210987/messages" {
				t.Errorf("request = %s %s", r.Method, r.Path)
			}
			if r.Header.Get("Authorization") != "Bearer EAAG-token" || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("headers = %v", r.Header)
			}
			assertJSON(t, r.Body, tt.want)
		})
	}
}

// TestOutboundRoundTrip checks that Meta's body decodes back into the same message: the fake Graph API
// and stored send jobs depend on it.
func TestOutboundRoundTrip(t *testing.T) {
	for _, tt := range sendCases {
		t.Run(tt.name, func(t *testing.T) {
			body, err := json.Marshal(tt.msg)
			if err != nil {
				t.Fatal(err)
			}
			var back OutboundMessage
			if err := json.Unmarshal(body, &back); err != nil {
				t.Fatalf("decode: %v", err)
			}
			want := tt.msg
			want.To = tt.msg.Recipient()
			if !reflect.DeepEqual(back, want) {
				t.Errorf("round trip\n got: %s\nwant: %s", jsonString(back), jsonString(want))
			}
		})
	}
	var m OutboundMessage
	if err := json.Unmarshal([]byte(`{"messaging_product":"whatsapp","to":"+1","type":"location","location":{}}`), &m); err == nil {
		t.Error("location decoded into OutboundMessage")
	}
}

func TestSendAnswerWithoutMessageID(t *testing.T) {
	stub := newGraphStub(t, http.StatusOK, `{"messaging_product":"whatsapp","messages":[]}`)
	_, err := stub.client().Send(t.Context(), "tok", "1", OutboundMessage{To: "1", Text: &Text{Body: "x"}})
	if err == nil || Classify(err) != ClassPermanent {
		t.Errorf("Send = %v (class %v), want a permanent error", err, Classify(err))
	}
}
