package graphtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard/whatsapp"
)

func TestSendAcceptedLikeMeta(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	res, err := h.sendText(t.Context(), "Hello from the inbox")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.MessageID, "wamid.") || res.WaID != customer || res.Input != "+"+customer {
		t.Errorf("result = %+v", res)
	}
	sent := h.fake.Sent()
	if len(sent) != 1 {
		t.Fatalf("%d sends recorded", len(sent))
	}
	m := sent[0]
	if m.MessageID != res.MessageID || m.PhoneNumberID != testPNID || m.Type != "text" || m.WaID != customer ||
		m.Message.Text == nil || m.Message.Text.Body != "Hello from the inbox" || m.Header.Get("Authorization") != "Bearer "+testToken {
		t.Errorf("recorded = %+v", m)
	}
	if !m.At.Equal(h.clock.Now()) || !json.Valid(m.Body) {
		t.Errorf("recorded at %v, body %s", m.At, m.Body)
	}
	if got := h.fake.SentTo(testPNID); len(got) != 1 || len(h.fake.SentTo("other")) != 0 {
		t.Errorf("SentTo = %d", len(got))
	}

	// The raw answer has exactly Meta's documented shape.
	resp := rawPost(t, h, testPNID, testToken, `{"messaging_product":"whatsapp","to":"+4915112345678","type":"text","text":{"body":"x"}}`)
	var answer struct {
		MessagingProduct string              `json:"messaging_product"`
		Contacts         []map[string]string `json:"contacts"`
		Messages         []map[string]string `json:"messages"`
	}
	if err := json.Unmarshal(resp.body, &answer); err != nil || resp.status != 200 || answer.MessagingProduct != "whatsapp" ||
		answer.Contacts[0]["input"] != "+4915112345678" || answer.Contacts[0]["wa_id"] != customer || len(answer.Messages) != 1 {
		t.Errorf("answer %d %s", resp.status, resp.body)
	}
}

func TestReadReceipts(t *testing.T) {
	h := newHarness(t, Options{})
	if err := h.client.MarkRead(t.Context(), testToken, testPNID, "wamid.IN1", true); err != nil {
		t.Fatal(err)
	}
	got := h.fake.ReadReceipts()
	if len(got) != 1 || got[0].MessageID != "wamid.IN1" || !got[0].Typing || len(h.fake.Sent()) != 0 {
		t.Errorf("read receipts = %+v, sends %d", got, len(h.fake.Sent()))
	}
}

type rawAnswer struct {
	status int
	body   []byte
}

// rawPost posts a body to the messages endpoint without the client's local checks.
func rawPost(t *testing.T, h *harness, pnid, token, body string) rawAnswer {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, h.srv.URL+"/v25.0/"+pnid+"/messages", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{resp.StatusCode, b}
}

func TestSendRejectedLikeMeta(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	long := strings.Repeat("a", 4097)
	tests := []struct {
		name, pnid, token, body string
		code, subcode           int
	}{
		{"missing token", testPNID, "", `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"x"}}`, 190, 0},
		{"wrong token", testPNID, "stolen", `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"x"}}`, 190, 0},
		{"unknown number", "555", testToken, `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"x"}}`, 100, 33},
		{"not json", testPNID, testToken, `to=1`, 100, 0},
		{"no messaging_product", testPNID, testToken, `{"to":"1","type":"text","text":{"body":"x"}}`, 100, 0},
		{"no recipient", testPNID, testToken, `{"messaging_product":"whatsapp","type":"text","text":{"body":"x"}}`, 100, 0},
		{"group recipient", testPNID, testToken, `{"messaging_product":"whatsapp","recipient_type":"group","to":"1","type":"text","text":{"body":"x"}}`, 100, 0},
		{"unknown type", testPNID, testToken, `{"messaging_product":"whatsapp","to":"1","type":"hologram","hologram":{}}`, 131051, 0},
		{"text too long", testPNID, testToken, `{"messaging_product":"whatsapp","to":"1","type":"text","text":{"body":"` + long + `"}}`, 100, 0},
		{"text is not an object", testPNID, testToken, `{"messaging_product":"whatsapp","to":"1","type":"text","text":"hi"}`, 100, 0},
		{"text missing", testPNID, testToken, `{"messaging_product":"whatsapp","to":"1","type":"text"}`, 100, 0},
		{"four buttons", testPNID, testToken, `{"messaging_product":"whatsapp","to":"1","type":"interactive","interactive":{"type":"button",
			"body":{"text":"b"},"action":{"buttons":[{"type":"reply","reply":{"id":"1","title":"a"}},{"type":"reply","reply":{"id":"2","title":"b"}},
			{"type":"reply","reply":{"id":"3","title":"c"}},{"type":"reply","reply":{"id":"4","title":"d"}}]}}}`, 131009, 0},
		{"location without object", testPNID, testToken, `{"messaging_product":"whatsapp","to":"1","type":"location"}`, 100, 0},
		{"read receipt without id", testPNID, testToken, `{"messaging_product":"whatsapp","status":"read"}`, 100, 0},
		{"bad typing indicator", testPNID, testToken, `{"messaging_product":"whatsapp","status":"read","message_id":"w","typing_indicator":{"type":"audio"}}`, 100, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rawPost(t, h, tt.pnid, tt.token, tt.body)
			var body struct {
				Error struct {
					Code      int    `json:"code"`
					Subcode   int    `json:"error_subcode"`
					Type      string `json:"type"`
					Message   string `json:"message"`
					FBTraceID string `json:"fbtrace_id"`
				} `json:"error"`
			}
			if err := json.Unmarshal(got.body, &body); err != nil || got.status < 400 {
				t.Fatalf("answer %d %s", got.status, got.body)
			}
			e := body.Error
			if e.Code != tt.code || e.Subcode != tt.subcode || e.Type == "" || e.Message == "" || e.FBTraceID == "" {
				t.Errorf("error = %+v, want code %d subcode %d", e, tt.code, tt.subcode)
			}
		})
	}
	if n := len(h.fake.Sent()); n != 0 {
		t.Errorf("%d rejected sends were recorded", n)
	}
	if got := rawPost(t, h, testPNID, testToken, `{"messaging_product":"whatsapp","to":"1","type":"location","location":{"latitude":1,"longitude":2}}`); got.status != 200 {
		t.Errorf("location send = %d %s", got.status, got.body)
	}
	for _, path := range []string{"/v25.0", "/nothing/here/at/all", "/whatsapp_business/attachments/"} {
		resp, err := h.srv.Client().Get(h.srv.URL + path)
		if err != nil || resp.StatusCode < 400 {
			t.Errorf("GET %s = %v %v", path, resp.Status, err)
		}
		resp.Body.Close()
	}
}

func TestInjectedFailuresDecodeAndClassify(t *testing.T) {
	tests := []struct {
		code       int
		httpStatus int
		class      whatsapp.Class
	}{
		{130429, 429, whatsapp.ClassRetry},
		{131047, 400, whatsapp.ClassWindowClosed},
		{131026, 400, whatsapp.ClassPermanent},
		{190, 401, whatsapp.ClassTokenInvalid},
		{131000, 500, whatsapp.ClassRetry},
		{132000, 400, whatsapp.ClassPermanent},
		{132001, 400, whatsapp.ClassPermanent},
		{131056, 429, whatsapp.ClassRetry},
		{500, 500, whatsapp.ClassRetry},
		{503, 503, whatsapp.ClassRetry},
	}
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	for _, tt := range tests {
		h.fake.FailNext(2, tt.code)
		for range 2 {
			_, err := h.sendText(t.Context(), "x")
			var ge *whatsapp.GraphError
			if !errors.As(err, &ge) || ge.HTTPStatus != tt.httpStatus || whatsapp.Classify(err) != tt.class {
				t.Fatalf("code %d: %v (class %v)", tt.code, err, whatsapp.Classify(err))
			}
			if wantCode := tt.code; tt.code >= 500 && tt.code < 600 {
				if ge.Code != 0 || ge.Type != "" {
					t.Errorf("plain %d decoded as %+v", tt.code, ge)
				}
			} else if ge.Code != wantCode || ge.Title == "" || ge.FBTraceID == "" {
				t.Errorf("code %d decoded as %+v", tt.code, ge)
			}
		}
		if _, err := h.sendText(t.Context(), "x"); err != nil {
			t.Fatalf("after FailNext(%d): %v", tt.code, err)
		}
	}
	if n := len(h.fake.Sent()); n != len(tests) {
		t.Errorf("%d sends recorded, want %d", n, len(tests))
	}
}

func TestFailForDownAndLatency(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	h.fake.FailFor(time.Minute, 130429)
	for range 3 {
		if _, err := h.sendText(t.Context(), "x"); whatsapp.Classify(err) != whatsapp.ClassRetry {
			t.Fatalf("during FailFor: %v", err)
		}
	}
	h.clock.Advance(time.Minute)
	if _, err := h.sendText(t.Context(), "x"); err != nil {
		t.Fatalf("after FailFor: %v", err)
	}

	h.fake.Down(true)
	_, err := h.client.GetMedia(t.Context(), testToken, "1")
	var ge *whatsapp.GraphError
	if !errors.As(err, &ge) || ge.HTTPStatus != 503 || whatsapp.Classify(err) != whatsapp.ClassRetry {
		t.Errorf("down: %v", err)
	}
	h.fake.Down(false)

	h.fake.SetLatency(time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := h.sendText(ctx, "x"); whatsapp.Classify(err) != whatsapp.ClassRetry || time.Since(start) > 900*time.Millisecond {
		t.Errorf("latency past the deadline: %v after %v", err, time.Since(start))
	}
	h.fake.SetLatency(0)
	if _, err := h.sendText(t.Context(), "x"); err != nil {
		t.Errorf("after latency: %v", err)
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	mux := http.NewServeMux()
	mux.Handle("/sandbox/graph/", http.StripPrefix("/sandbox/graph", h.fake))
	front := httptest.NewServer(mux)
	t.Cleanup(front.Close)
	srv := front.URL
	c := whatsapp.NewClient(whatsapp.ClientOptions{BaseURL: srv + "/sandbox/graph", Version: "v25.0"})
	if _, err := c.Send(t.Context(), testToken, testPNID, whatsapp.OutboundMessage{To: customer, Text: &whatsapp.Text{Body: "hi"}}); err != nil {
		t.Fatal(err)
	}
	sha := h.fake.PutMedia("777", "image/png", []byte("png-bytes"))
	info, err := c.GetMedia(t.Context(), testToken, "777")
	if err != nil || !strings.HasPrefix(info.URL, srv+"/sandbox/graph/whatsapp_business/attachments/") {
		t.Fatalf("media URL under prefix: %+v, %v", info, err)
	}
	data, err := c.DownloadMedia(t.Context(), testToken, info.URL, 0)
	if err != nil || !bytes.Equal(data, []byte("png-bytes")) || !whatsapp.MediaDigestMatches(data, sha) {
		t.Errorf("download under prefix: %q, %v", data, err)
	}
}

// TestThroughputErrorAsMetaSendsIt: an injected 130429 answers what Meta answers (WHATSAPP.md §6,
// Meta's throughput example): "(#130429) Rate limit hit", OAuthException, error_data with the
// product and the details, the deprecated error_subcode 2494055 and a fbtrace_id, and nothing more.
func TestThroughputErrorAsMetaSendsIt(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	h.fake.FailNext(1, 130429)
	got := rawPost(t, h, testPNID, testToken, `{"messaging_product":"whatsapp","to":"+4915112345678","type":"text","text":{"body":"x"}}`)
	var body struct {
		Error map[string]json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(got.body, &body); err != nil || got.status != http.StatusTooManyRequests {
		t.Fatalf("answer %d %s", got.status, got.body)
	}
	want := map[string]string{
		"message":       `"(#130429) Rate limit hit"`,
		"type":          `"OAuthException"`,
		"code":          `130429`,
		"error_subcode": `2494055`,
		"error_data":    `{"messaging_product":"whatsapp","details":"Cloud API message throughput has been reached."}`,
	}
	for k, v := range want {
		if string(body.Error[k]) != v {
			t.Errorf("error.%s = %s, want %s", k, body.Error[k], v)
		}
	}
	var trace string
	if json.Unmarshal(body.Error["fbtrace_id"], &trace) != nil || trace == "" {
		t.Errorf("fbtrace_id = %s", body.Error["fbtrace_id"])
	}
	if len(body.Error) != len(want)+1 {
		t.Errorf("error has keys Meta does not send: %s", got.body)
	}

	// The client reads every part of it, and retries it after a wait.
	h.fake.FailNext(1, 130429)
	_, err := h.sendText(t.Context(), "x")
	var ge *whatsapp.GraphError
	if !errors.As(err, &ge) || ge.Code != 130429 || ge.Subcode != 2494055 || ge.Title != "Rate limit hit" ||
		ge.Details != "Cloud API message throughput has been reached." || ge.FBTraceID == "" {
		t.Fatalf("decoded as %+v", ge)
	}
	if whatsapp.Classify(err) != whatsapp.ClassRetry || whatsapp.RetryAfter(err, 1) <= 0 {
		t.Errorf("130429 is class %v, retry after %v", whatsapp.Classify(err), whatsapp.RetryAfter(err, 1))
	}
}

// TestRejectedSendsAreRecorded: every refused send is kept with the code and trace id answered, in
// one order with the accepted sends, so a test can count the attempts a message took.
func TestRejectedSendsAreRecorded(t *testing.T) {
	h := newHarness(t, Options{})
	h.fake.SetStatusFlow()
	h.fake.FailNext(2, 130429)
	var traces []string
	for range 2 {
		_, err := h.sendText(t.Context(), "storm")
		var ge *whatsapp.GraphError
		if !errors.As(err, &ge) {
			t.Fatalf("during FailNext: %v", err)
		}
		traces = append(traces, ge.FBTraceID)
	}
	if _, err := h.sendText(t.Context(), "storm"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Send(t.Context(), "stolen", testPNID, whatsapp.OutboundMessage{To: customer, Text: &whatsapp.Text{Body: "thief"}}); err == nil {
		t.Fatal("a wrong token was accepted")
	}
	h.fake.FailNext(1, 503)
	h.sendText(t.Context(), "outage")
	if err := h.client.MarkRead(t.Context(), testToken, testPNID, "wamid.IN1", false); err != nil {
		t.Fatal(err)
	}
	rawPost(t, h, testPNID, testToken, `{"messaging_product":"whatsapp","status":"read"}`) // a refused read receipt is no send

	rej, sent := h.fake.Rejected(), h.fake.Sent()
	if len(rej) != 4 || len(sent) != 1 {
		t.Fatalf("%d rejected, %d sent: %+v", len(rej), len(sent), rej)
	}
	for i, r := range rej[:2] {
		if r.Code != 130429 || r.HTTPStatus != 429 || r.Error == nil || r.Error.FBTraceID != traces[i] || r.Error.Subcode != 2494055 ||
			r.PhoneNumberID != testPNID || r.Type != "text" || r.Message.Text == nil || r.Message.Text.Body != "storm" || r.Seq != i+1 {
			t.Errorf("rejected[%d] = %+v", i, r)
		}
	}
	if sent[0].Seq != 3 || sent[0].Message.Text.Body != "storm" {
		t.Errorf("accepted send numbered %d, want 3 (after two rejections)", sent[0].Seq)
	}
	if r := rej[2]; r.Code != 190 || r.HTTPStatus != 401 || r.Header.Get("Authorization") != "Bearer stolen" || r.Seq != 4 {
		t.Errorf("wrong token recorded as %+v", r)
	}
	if r := rej[3]; r.Code != 503 || r.HTTPStatus != 503 || r.Error != nil || r.Message.Text == nil || r.Message.Text.Body != "outage" {
		t.Errorf("plain failure recorded as %+v", r)
	}
	h.fake.Reset()
	if n := len(h.fake.Rejected()); n != 0 {
		t.Errorf("Reset kept %d rejected sends", n)
	}
}

// TestKeepBoundsWhatIsRecorded: with Keep, only the latest sends are kept for inspection, however many
// went through, and WaitForSent still counts every accepted one.
func TestKeepBoundsWhatIsRecorded(t *testing.T) {
	fake := New(Options{Keep: 4})
	n := Number{PhoneNumberID: "106540352242922", DisplayPhoneNumber: "15550001234", WABAID: "102290129340398", Token: "tok"}
	fake.RegisterNumber(n)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	client := whatsapp.NewClient(whatsapp.ClientOptions{BaseURL: srv.URL, Version: "v25.0", HTTPClient: srv.Client()})
	for i := range 20 {
		if _, err := client.Send(t.Context(), n.Token, n.PhoneNumberID, whatsapp.OutboundMessage{To: "4915112345678", Text: &whatsapp.Text{Body: fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	sent := fake.Sent()
	if len(sent) < 4 || len(sent) > 5 || sent[len(sent)-1].Message.Text.Body != "19" {
		t.Fatalf("kept %d sends, the last %+v; want the latest 4 or 5", len(sent), sent[len(sent)-1].Message)
	}
	if got, err := fake.WaitForSent(t.Context(), 20); err != nil || len(got) != len(sent) {
		t.Fatalf("WaitForSent(20) = %d, %v", len(got), err)
	}
}
